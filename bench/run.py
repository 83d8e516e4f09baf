"""`make bench`: run every benchmark in one go and write docs/benchmarks.md and docs/benchmarks.png.

Pieces: the Graph simulator (bench/simulator.py) in its own process, the app under gunicorn
(gunicorn.conf.py, DEBUG off) in others, and the load from this process. Databases: a throwaway
SQLite file and a throwaway PostgreSQL database (`incident_bench` on BENCH_PG_URL's server), both
dropped at the end. Ratios are only quoted between figures taken in this one run.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import requests

from load import hammer, summary, timed, token

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
OUT = ROOT / "artifacts" / "bench"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = "incident_bench"
APP_SECRET = "bench-app-secret"
PASSWORD = "bench-pass"

SIM_PORT, FAST_PORT, SEQ_PORT, CONSOLE_PORT, BASE_PORT = 9100, 8101, 8102, 8103, 8104
# NOTIFICATION_DELIVERY=celery: Graph at 300 ms for ticket creates, at 200 ms for sustained
# delivery (each simulator logging what it received), a Redis database of the bench's own.
SLOW_SIM_PORT, SUSTAIN_SIM_PORT = 9101, 9102
# A webhook carrying one button tap with Graph at 2 s; concurrent creates while one admin's phone
# answers in 8 s (the rest at LATENCY_MS).
TAP_SIM_PORT, TAP_GRAPH_MS, TAPS = 9103, 2000, 20
SLOW_PHONE_PORT, SLOW_PHONE_MS, SLOW_CREATES, SLOW_ADMINS = 9104, 8000, 20, 5
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
# A burst on the workers: BURST_EVENTS tickets filed at once, each told to BURST_PEOPLE admins,
# Graph at BURST_GRAPH_MS, the number paced to BURST_CAP messages a second.
BURST_SIM_PORT, BURST_EVENTS, BURST_PEOPLE, BURST_GRAPH_MS, BURST_CAP = 9105, 100, 8, 300, 20
# The inline ceiling: CEILING_CLIENTS filing tickets back to back for CEILING_SECONDS, each told to
# CEILING_ADMINS, Graph at 200 ms, two server processes of four threads (here and BENCH_BASELINE).
CEILING_SIM_PORT, CEILING_CLIENTS, CEILING_SECONDS, CEILING_ADMINS = 9106, 16, 15, 3
# django-helpdesk beside us: its own kit sets it up and times it (outside this repository).
PEER_KIT = Path(os.environ.get("BENCH_PEER_KIT", ROOT.parent / "shared" / "peers" / "helpdesk"))
PEER_TICKETS, PEER_POSTS = 10_000, 200
# Sustained delivery: enough people that their own order (one message at a time each) does not
# hold the pace back, so the pacer is what sets it.
SCALE_REPEATS, SUSTAIN_EVENTS, SUSTAIN_RECIPIENTS, PER_SECOND = 20, 32, 50, 80
# An earlier commit to run beside this one in the fan-out, e.g. BENCH_BASELINE=9a4120d (the last
# before the notification ledger): its figures land in the same table, taken in the same run.
BASELINE = os.environ.get("BENCH_BASELINE", "")
LATENCY_MS = 100
FANOUT_RECIPIENTS = (1, 5, 20, 50)
FANOUT_REPEATS = int(os.environ.get("BENCH_FANOUT_REPEATS", 10))
LIST_TICKETS, LIST_PAGE, LIST_REQUESTS, LIST_CLIENTS = 10_000, 50, 400, 4
HOOK_ROWS, HOOK_BATCH, HOOK_POSTS = 10_000, 100, 40
CONSOLE_REPEATS = 30
TIMER_CLOCKS = 100_000  # open tickets with running clocks for the timer pass
INSIGHT_ROWS = "100000,1000000"  # the log grown to each size in turn
# Ticket lists as the table grows: a database per size, the API beside bench/bare_urls.py.
# A search whose matches grow with the table (every 777 in a number), and one that finds the one
# ticket seeded with this word at any size (bench/seed.py).
LIST_SIZES, LIST_SAMPLES, LIST_SEARCH, LIST_NEEDLE = (1_000, 100_000, 1_000_000), 30, "ticket 777", "quokka"
THROUGHPUT_ROUNDS = 3
# Attachments: a FILE_MB MB screenshot up and down, through the API and through bare views,
# FILE_SAMPLES times each, the two sides taking turns.
FILE_MB, FILE_SAMPLES = 5, 60


# --- Processes -------------------------------------------------------------------------------------

def app_env(database_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "NOTIFICATION_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "Incident.settings",
        "DEBUG": "False", "SECRET_KEY": "bench-secret-key-" + "x" * 40,
        "JWT_SIGNING_KEY": "bench-jwt-key-" + "y" * 40, "AUTH_THROTTLE_RATE": "1000/min",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver", "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
        "WHATSAPP_ACCESS_TOKEN": "",  # console mode unless a benchmark sets the simulator up
        "WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_WEBHOOK_VERIFY_TOKEN": "bench-verify",
        # Each benchmark times every message's own way out: digests would hold all but three
        # a minute per person back (the digest tests cover them).
        "WHATSAPP_DIGEST_AFTER": "0",
        "WHATSAPP_RETRY_BACKOFF": "", "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    })
    env.update(extra)
    return env


def graph_env(port: int = SIM_PORT, **extra: str) -> dict:
    return {"WHATSAPP_ACCESS_TOKEN": "bench-token", "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
            "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{port}", **extra}


def celery_env(env: dict, port: int) -> dict:
    queue = f"bench-{os.getpid()}"
    return {**env, **graph_env(port), "NOTIFICATION_DELIVERY": "celery", "REDIS_URL": REDIS_URL,
            "CELERY_QUEUE": queue, "CACHE_KEY_PREFIX": queue,
            "WHATSAPP_MAX_MESSAGES_PER_SECOND": str(PER_SECOND)}


def manage(env: dict, *args: str, root: Path = ROOT) -> None:
    # The console-mode warning is expected here; the app's own output goes to artifacts/bench.
    subprocess.run([PYTHON, "manage.py", *args], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def seed(env: dict, step: str, argument: int, root: Path = ROOT) -> dict:
    done = subprocess.run([PYTHON, "bench/seed.py", step, str(argument)], cwd=root, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"bench/seed.py {step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def process(name: str, command: list[str], env: dict, ready_url: str, root: Path = ROOT):
    log = open(OUT / f"{name}.log", "w")
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(ready_url, timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start; see {log.name}")
                time.sleep(0.2)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


@contextmanager
def celery_workers(env: dict, count: int = 2):
    """`count` Celery workers (32 threads each), as docs/scaling-out.md, "Scaling out" runs them."""
    procs, logs = [], []
    try:
        for n in range(count):
            log = OUT / f"worker-{n}.log"
            logs.append(log)
            procs.append(subprocess.Popen(
                [PYTHON, "-m", "celery", "-A", "Incident", "worker", "--pool", "threads",
                 "--concurrency", "32",
                 "-n", f"bench{n}-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
                 "--loglevel", "INFO"], cwd=ROOT, env=env, stdout=open(log, "w"),
                stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 60
        while not all("ready." in log.read_text() for log in logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"Celery workers did not start; see {OUT}/worker-*.log")
            time.sleep(0.2)
        yield
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def simulator(port: int, latency_ms: float, log: Path | None = None):
    command = [PYTHON, "bench/simulator.py", "--port", str(port), "--latency-ms", str(latency_ms)]
    if log is not None:
        log.unlink(missing_ok=True)
        command += ["--log", str(log)]
    return process(f"simulator-{port}", command, os.environ.copy(), f"http://127.0.0.1:{port}/")


def gunicorn(name: str, port: int, env: dict, workers: int = 2, root: Path = ROOT,
             threads: int = 4):
    env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers),
           "GUNICORN_THREADS": str(threads)}
    command = [str(Path(PYTHON).parent / "gunicorn"), "--config", "gunicorn.conf.py",
               "--access-logfile", "/dev/null", "Incident.wsgi:application"]
    return process(name, command, env, f"http://127.0.0.1:{port}/healthz", root)


@contextmanager
def baseline(env: dict, *, graph_port: int = SIM_PORT, workers: int = 1):
    """BENCH_BASELINE checked out beside this tree, on a database of its own, serving the
    simulator at `graph_port`: yields (base URL, env, root), or None when no baseline was asked
    for."""
    if not BASELINE:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="incident-baseline-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(root), BASELINE], cwd=ROOT,
                   check=True, capture_output=True)
    pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}_base")
    pg_admin(f"CREATE DATABASE {PG_DB}_base")
    base_env = {**env, "DATABASE_URL": PG_SERVER.rsplit("/", 1)[0] + f"/{PG_DB}_base",
                **graph_env(graph_port)}
    try:
        manage(base_env, "migrate", "--noinput", root=root)
        seed(base_env, "users", max(FANOUT_RECIPIENTS), root=root)
        with gunicorn("app-baseline", BASE_PORT, base_env, workers=workers, root=root):
            yield f"http://127.0.0.1:{BASE_PORT}", base_env, root
    finally:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}_base WITH (FORCE)")
        subprocess.run(["git", "worktree", "remove", "--force", str(root)], cwd=ROOT,
                       capture_output=True)


# --- Databases -------------------------------------------------------------------------------------

def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as connection:
        connection.execute(sql)


@contextmanager
def databases():
    folder = tempfile.mkdtemp(prefix="incident-bench-")
    pg_admin(f"DROP DATABASE IF EXISTS {PG_DB}")
    pg_admin(f"CREATE DATABASE {PG_DB}")
    try:
        yield {"SQLite": f"sqlite:///{folder}/bench.sqlite3",
               "PostgreSQL": PG_SERVER.rsplit("/", 1)[0] + f"/{PG_DB}"}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def prepare(url: str) -> dict:
    env = app_env(url)
    manage(env, "migrate", "--noinput")
    seed(env, "users", max(FANOUT_RECIPIENTS))
    seed(env, "tickets", LIST_TICKETS)
    seed(env, "logs", HOOK_ROWS)
    return env


# --- The benchmarks --------------------------------------------------------------------------------

TICKET = {"title": "Bench: printer on fire", "description": "Created by bench/run.py.",
          "project_name": "Bench", "priority": "HIGH", "category": "BUG"}


def creates(base_urls: dict[str, str], repeats: int, between=None) -> dict[str, list[float]]:
    """Ticket creates, taking turns between servers so drift in the machine hits each alike;
    `between` runs after each round, untimed."""
    sessions = {}
    for name, base in base_urls.items():
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + token(base, "bench-client", PASSWORD)
        sessions[name] = session
        timed(session, "POST", f"{base}/api/tickets/", 201, json=TICKET)  # warm-up
    latencies: dict[str, list[float]] = {name: [] for name in base_urls}
    for _ in range(repeats):
        for name, base in base_urls.items():
            latencies[name].append(timed(sessions[name], "POST", f"{base}/api/tickets/", 201,
                                         json=TICKET))
        if between is not None:
            between()
    return latencies


def fanout(env: dict) -> dict:
    results, expected = {}, 0
    # One process each: one client sends one request at a time, and a single process keeps its
    # pooled Graph connections warm between requests (with two, either may start cold).
    with gunicorn("app-concurrent", FAST_PORT, {**env, **graph_env()}, workers=1), \
            gunicorn("app-sequential", SEQ_PORT, {**env, **graph_env(WHATSAPP_MAX_WORKERS="1")},
                     workers=1), baseline(env) as base:
        servers = {"concurrent": f"http://127.0.0.1:{FAST_PORT}",
                   "sequential": f"http://127.0.0.1:{SEQ_PORT}"}
        if base:
            servers["baseline"] = base[0]
        for count in FANOUT_RECIPIENTS:
            seed(env, "admins", count)
            if base:
                seed(base[1], "admins", count, root=base[2])
            latencies = creates(servers, FANOUT_REPEATS)
            results[count] = {name: summary(values) for name, values in latencies.items()}
            # Both of this tree's servers share the database; the baseline has its own.
            expected += 2 * count * (FANOUT_REPEATS + 1)  # warm-up included
            sent = seed(env, "counts", 0)["sent_through_simulator"]
            if sent != expected:
                raise RuntimeError(f"{sent} messages went through the simulator, not {expected}")
            print(f"  fan-out {count:>2} recipients: concurrent "
                  f"{results[count]['concurrent']['median_ms']:.0f} ms, sequential "
                  f"{results[count]['sequential']['median_ms']:.0f} ms", flush=True)
    return results


def ticket_list(env: dict) -> dict:
    base = f"http://127.0.0.1:{FAST_PORT}"
    seed(env, "admins", 1)
    with gunicorn("app-list", FAST_PORT, env):
        headers = {"Authorization": "Bearer " + token(base, "bench-admin-00", PASSWORD)}
        url = f"{base}/api/tickets/?page_size={LIST_PAGE}"
        hammer(url, headers=headers, requests_total=20, clients=LIST_CLIENTS)  # warm-up
        return hammer(url, headers=headers, requests_total=LIST_REQUESTS, clients=LIST_CLIENTS)


def webhook(env: dict) -> dict:
    base = f"http://127.0.0.1:{FAST_PORT}"
    url = f"{base}/api/notifications/whatsapp/webhook/"
    session = requests.Session()
    latencies = []
    steps = ("delivered", "read")
    with gunicorn("app-webhook", FAST_PORT, env):
        # Warm-up, untimed, as the other benchmarks have: each worker process answers its first
        # POSTs cold (imports, URL map, connections). Statuses for messages that do not exist,
        # so the count checked below is untouched.
        for _ in range(6):
            body = json.dumps(hook_payload(range(HOOK_ROWS * 10, HOOK_ROWS * 10 + HOOK_BATCH),
                                           "delivered")).encode()
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            requests.post(url, data=body, timeout=60, headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": signature})
        for post in range(HOOK_POSTS):
            first = (post * HOOK_BATCH) % HOOK_ROWS
            step = steps[(post * HOOK_BATCH) // HOOK_ROWS % 2]
            body = json.dumps(hook_payload(range(first, first + HOOK_BATCH), step)).encode()
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            latencies.append(timed(session, "POST", url, 200, data=body, headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": signature}))
    applied = seed(env, "counts", 0)["delivered"]
    if applied != HOOK_BATCH * HOOK_POSTS:
        raise RuntimeError(f"the webhook marked {applied} rows delivered, not {HOOK_BATCH * HOOK_POSTS}")
    total_seconds = sum(latencies) / 1000
    return {**summary(latencies), "statuses_per_s": HOOK_BATCH * HOOK_POSTS / total_seconds}


def tap_webhook(env: dict) -> dict:
    """Signed webhooks, one after another, each carrying one admin's tap of Open on a new ticket,
    while Graph takes 2 s a message: the answer must not wait for the messages the tap causes."""
    seed(env, "admins", 1)
    plan = seed(env, "taps", TAPS)
    url = f"http://127.0.0.1:{FAST_PORT}/api/notifications/whatsapp/webhook/"
    session, latencies = requests.Session(), []
    with simulator(TAP_SIM_PORT, TAP_GRAPH_MS), \
            gunicorn("app-taps", FAST_PORT, {**env, **graph_env(TAP_SIM_PORT)}):
        for n, payload in enumerate(plan["payloads"]):
            now = str(int(time.time()))
            message = {"from": plan["number"], "id": f"wamid.TAP{n}-{now}", "timestamp": now,
                       "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {
                           "id": payload, "title": "Open"}}}
            body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
                "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
                    "display_phone_number": "15550000000", "phone_number_id": "100000000000001"},
                    "messages": [message]}}]}]}).encode()
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            latencies.append(timed(session, "POST", url, 200, data=body, headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": signature}))
        settle(env)  # the answers and the clients' "opened" messages, sent after each response
    opened = seed(env, "counts", 0)["opened_by_taps"]
    if opened != TAPS:
        raise RuntimeError(f"the taps opened {opened} tickets, not {TAPS}")
    return {**summary(latencies), "graph_ms": TAP_GRAPH_MS}


def slow_phone(env: dict) -> dict:
    """Concurrent creates while one admin's phone answers in 8 s: each request waits for its own
    messages only, within the time bound (docs/delivery.md: connect ≤ 5 s + WHATSAPP_TIMEOUT + 1 s). A
    request holds its server thread while it sends, so it is measured twice: with the default 8
    threads (later requests queue for a thread) and with a thread for each concurrent create."""
    seed(env, "admins", SLOW_ADMINS)
    base = f"http://127.0.0.1:{FAST_PORT}"
    slow = [PYTHON, "bench/simulator.py", "--port", str(SLOW_PHONE_PORT), "--latency-ms",
            str(LATENCY_MS), "--slow", f"201000300000:{SLOW_PHONE_MS}"]
    bound = 1000 * (min(5.0, 10.0) + 10.0 + 1)  # the default WHATSAPP_TIMEOUT of 10 s
    runs = {}
    with process(f"simulator-{SLOW_PHONE_PORT}", slow, os.environ.copy(),
                 f"http://127.0.0.1:{SLOW_PHONE_PORT}/"):
        # Two processes of 4 threads (the default), then one of a thread per create: with two
        # processes the kernel may hand either more connections than it has threads.
        for workers, threads in ((2, 4), (1, SLOW_CREATES)):
            with gunicorn("app-slow-phone", FAST_PORT, {**env, **graph_env(SLOW_PHONE_PORT)},
                          workers=workers, threads=threads):
                latencies = at_once(base, SLOW_CREATES)
            runs[f"{workers} × {threads}"] = {**summary(latencies), "max_ms": max(latencies),
                                              "threads": workers * threads}
    return {**runs[f"1 × {SLOW_CREATES}"], "by_threads": runs, "bound_ms": bound, "creates": SLOW_CREATES,
            "admins": SLOW_ADMINS, "slow_ms": SLOW_PHONE_MS, "server_threads": SLOW_CREATES}


def at_once(base: str, count: int, clients: int | None = None) -> list[float]:
    """`count` ticket creates by `clients` threads at once (one each by default): latencies."""
    bearer = "Bearer " + token(base, "bench-client", PASSWORD)
    latencies, lock, left = [], threading.Lock(), iter(range(count))

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = bearer
        while True:
            with lock:
                if next(left, None) is None:
                    return
            took = timed(session, "POST", f"{base}/api/tickets/", 201, json=TICKET)
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=client) for _ in range(clients or count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return latencies


def burst(env: dict) -> dict:
    """A burst on two Celery workers: BURST_EVENTS creates at once, each for BURST_PEOPLE admins;
    messages a second at Graph against the cap, and the busiest second."""
    seed(env, "admins", BURST_PEOPLE)
    log = OUT / "graph-burst.log"
    workers_env = {**celery_env(env, BURST_SIM_PORT),
                   "WHATSAPP_MAX_MESSAGES_PER_SECOND": str(BURST_CAP)}
    with simulator(BURST_SIM_PORT, BURST_GRAPH_MS, log), celery_workers(workers_env), \
            gunicorn("app-burst", SEQ_PORT, workers_env):
        latencies = at_once(f"http://127.0.0.1:{SEQ_PORT}", BURST_EVENTS, clients=8)
        settle(env, 300)
    times, expected = received(log), BURST_EVENTS * BURST_PEOPLE
    if len(times) != expected:
        raise RuntimeError(f"{len(times)} messages of the burst reached Graph, not {expected}")
    per_second = (len(times) - 1) / (times[-1] - times[0])
    return {"messages": len(times), "seconds": times[-1] - times[0], "per_second": per_second,
            "cap": BURST_CAP, "share": per_second / BURST_CAP,
            "busiest_second": busiest_second(times), "events": BURST_EVENTS,
            "people": BURST_PEOPLE, "graph_ms": BURST_GRAPH_MS, "creates": summary(latencies)}


def ceiling(env: dict) -> dict:
    """The inline delivery ceiling: CEILING_CLIENTS file tickets back to back for CEILING_SECONDS
    (each told to CEILING_ADMINS, Graph at 200 ms), on this tree and on BENCH_BASELINE in turn:
    events and messages a second completed."""
    results = {}
    seed(env, "admins", CEILING_ADMINS)

    def load(name: str, base: str, log: Path, admins_seeded) -> None:
        admins_seeded()
        at_once(base, 1)  # warm-up: one event, untimed
        bearer = "Bearer " + token(base, "bench-client", PASSWORD)
        done, lock, stop = [], threading.Lock(), time.monotonic() + CEILING_SECONDS

        def client() -> None:
            session = requests.Session()
            session.headers["Authorization"] = bearer
            while time.monotonic() < stop:
                took = timed(session, "POST", f"{base}/api/tickets/", 201, json=TICKET)
                with lock:
                    done.append(took)

        started = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(CEILING_CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        wall = time.monotonic() - started
        time.sleep(2)  # messages a server sends after answering
        messages = len(received(log)) - CEILING_ADMINS  # the warm-up's
        results[name] = {"events_per_s": len(done) / wall, "messages_per_s": messages / wall,
                         "messages": messages, "expected": CEILING_ADMINS * len(done),
                         **summary(done)}

    ours, theirs = OUT / "graph-ceiling.log", OUT / "graph-ceiling-base.log"
    with simulator(CEILING_SIM_PORT, 200, ours), \
            gunicorn("app-ceiling", FAST_PORT, {**env, **graph_env(CEILING_SIM_PORT)}):
        load("this", f"http://127.0.0.1:{FAST_PORT}", ours, lambda: None)
    if BASELINE:
        with simulator(CEILING_SIM_PORT, 200, theirs), \
                baseline(env, graph_port=CEILING_SIM_PORT, workers=2) as base:
            load("baseline", base[0], theirs,
                 lambda: seed(base[1], "admins", CEILING_ADMINS, root=base[2]))
        results["ratio"] = results["this"]["messages_per_s"] / results["baseline"]["messages_per_s"]
    if results["this"]["messages"] != results["this"]["expected"]:
        raise RuntimeError(f"inline: {results['this']['messages']} messages reached Graph, not "
                           f"{results['this']['expected']}")
    return {**results, "clients": CEILING_CLIENTS, "seconds": CEILING_SECONDS,
            "admins": CEILING_ADMINS, "server_threads": 2 * 4}


def peer(env: dict) -> dict:
    """Ticket create beside django-helpdesk 2.6.1 on the same machine and PostgreSQL: its kit
    (PEER_KIT) installs, seeds and times it; ours is timed the same way: one client, one request
    after another, a new connection each, console mode with one admin told."""
    if not (PEER_KIT / "bench.py").exists():
        return {"missing": str(PEER_KIT)}
    with open(OUT / "peer.log", "w") as log:
        url = subprocess.run(["bash", "pg_prepare.sh"], cwd=PEER_KIT, check=True, text=True,
                             capture_output=True).stdout.strip().splitlines()[-1]
        peer_env = {**os.environ, "DATABASE_URL": url}
        subprocess.run(["bash", "setup.sh", str(PEER_TICKETS)], cwd=PEER_KIT, env=peer_env,
                       check=True, stdout=log, stderr=subprocess.STDOUT)
        done = subprocess.run(["python3", "bench.py", "--posts", str(PEER_POSTS), "--duration", "5"],
                              cwd=PEER_KIT, env=peer_env, check=True, text=True,
                              capture_output=True)
        log.write(done.stderr)
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    seed(env, "admins", 1)
    base = f"http://127.0.0.1:{CONSOLE_PORT}"
    with gunicorn("app-peer", CONSOLE_PORT, {**env, "WHATSAPP_ACCESS_TOKEN": ""}):
        session = requests.Session()
        session.headers.update({"Authorization": "Bearer " + token(base, "bench-client", PASSWORD),
                                "Connection": "close"})
        for _ in range(5):  # warm-up, as the peer's
            timed(session, "POST", f"{base}/api/tickets/", 201, json=TICKET)
        ours = [timed(session, "POST", f"{base}/api/tickets/", 201, json=TICKET)
                for _ in range(PEER_POSTS)]
    mine = {**summary(ours), "sql": seed(env, "create_queries", 0)["queries"]}
    return {"this": mine, "peer": {"median_ms": theirs["post_create"]["p50_ms"],
                                   "p95_ms": theirs["post_create"]["p95_ms"],
                                   "sql": theirs.get("sql_per_request", {}).get("post_create")},
            "versions": theirs.get("versions"), "ratio": mine["median_ms"] / theirs["post_create"]["p50_ms"]}


def hook_payload(numbers: range, step: str) -> dict:
    now = str(int(time.time()))
    statuses = [{"id": f"wamid.HOOK{n}", "status": step, "timestamp": now,
                 "recipient_id": "201000300000"} for n in numbers]
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
            "display_phone_number": "15550000000", "phone_number_id": "100000000000001"},
            "statuses": statuses}}]}]}


def console_overhead(env: dict) -> dict:
    """Console mode (no token): what rendering, choosing recipients and logging cost a request."""
    base = f"http://127.0.0.1:{CONSOLE_PORT}"
    results = {}
    with gunicorn("app-console", CONSOLE_PORT, {**env, "WHATSAPP_ACCESS_TOKEN": ""}):
        for count in (0, 3):
            seed(env, "admins", count)
            results[count] = summary(creates({"console": base}, CONSOLE_REPEATS)["console"])
    skipped = seed(env, "counts", 0)["skipped"]
    if skipped != 3 * (CONSOLE_REPEATS + 1):
        raise RuntimeError(f"console mode logged {skipped} rows, not {3 * (CONSOLE_REPEATS + 1)}")
    return results


def settle(env: dict, seconds: float = 120) -> None:
    """Wait until the workers have no QUEUED or SENDING row left."""
    deadline = time.monotonic() + seconds
    while seed(env, "counts", 0)["unsettled"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the workers left rows unsettled after {seconds} s")
        time.sleep(0.5)


def received(log: Path) -> list[float]:
    return sorted(float(line.split()[0]) for line in log.read_text().splitlines() if line)


def busiest_second(times: list[float]) -> int:
    busiest, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


def scale_out(env: dict) -> dict:
    """Ticket creates in worker mode beside inline and console mode, Graph at 300 ms; then
    sustained delivery by two workers, Graph at 200 ms, paced to PER_SECOND."""
    seed(env, "admins", 3)
    slow_log, sustain_log = OUT / "graph-300ms.log", OUT / "graph-200ms.log"
    workers_env = celery_env(env, SLOW_SIM_PORT)
    with simulator(SLOW_SIM_PORT, 300, slow_log), celery_workers(workers_env), \
            gunicorn("app-console", CONSOLE_PORT, {**env, "WHATSAPP_ACCESS_TOKEN": ""}, workers=1), \
            gunicorn("app-inline", FAST_PORT, {**env, **graph_env(SLOW_SIM_PORT)}, workers=1), \
            gunicorn("app-celery", SEQ_PORT, workers_env, workers=1):
        # One server after the other, not in turns: one person's messages go out in order, so
        # a server's rows would otherwise wait behind the workers' (one mode per installation).
        # In worker mode each create waits until the workers have sent the one before: on this
        # 2-core machine they would otherwise be timed competing with the app server for a core,
        # which they do not do on hosts of their own.
        latencies = {}
        for name, port in (("console", CONSOLE_PORT), ("inline", FAST_PORT), ("celery", SEQ_PORT)):
            latencies.update(creates({name: f"http://127.0.0.1:{port}"}, SCALE_REPEATS,
                                     between=(lambda: settle(env)) if name == "celery" else None))
        settle(env)
    expected = 2 * 3 * (SCALE_REPEATS + 1)  # inline and celery, three admins, warm-up included
    if len(received(slow_log)) != expected:
        raise RuntimeError(f"{len(received(slow_log))} messages reached Graph, not {expected}")
    result = {"creates": {name: summary(values) for name, values in latencies.items()}}

    seed(env, "admins", SUSTAIN_RECIPIENTS)
    workers_env = celery_env(env, SUSTAIN_SIM_PORT)
    with simulator(SUSTAIN_SIM_PORT, 200, sustain_log), celery_workers(workers_env), \
            gunicorn("app-celery", SEQ_PORT, workers_env, workers=1):
        creates({"celery": f"http://127.0.0.1:{SEQ_PORT}"}, SUSTAIN_EVENTS - 1)
        settle(env, 300)
    times, expected = received(sustain_log), SUSTAIN_EVENTS * SUSTAIN_RECIPIENTS
    if len(times) != expected:
        raise RuntimeError(f"{len(times)} messages reached Graph, not {expected}")
    result["sustained"] = {"messages": len(times), "seconds": times[-1] - times[0],
                           "per_second": (len(times) - 1) / (times[-1] - times[0]),
                           "busiest_second": busiest_second(times), "cap": PER_SECOND,
                           "pace_window": pace_window(),
                           "recipients": SUSTAIN_RECIPIENTS, "events": SUSTAIN_EVENTS}
    return result


def list_scaling() -> dict:
    """Page 1, the last page (page numbers, then cursor mode), a search and a detail, at each of
    LIST_SIZES tickets on PostgreSQL; and list and detail throughput beside the bare views."""
    import base64
    from urllib.parse import urlencode

    results = {}
    for size in LIST_SIZES:
        db = f"{PG_DB}_lists"
        pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {db}")
        env = app_env(PG_SERVER.rsplit("/", 1)[0] + f"/{db}", DJANGO_SETTINGS_MODULE="bare_settings",
                      PYTHONPATH=str(ROOT / "bench"))
        try:
            manage(env, "migrate", "--noinput")
            seed(env, "users", 1)
            seed(env, "tickets", size)
            deep = seed(env, "deep", 49)
            # As DRF's CursorPagination writes one: the position, form-encoded, in base64.
            cursor = base64.b64encode(urlencode({"p": deep["position"]}).encode()).decode()
            with gunicorn("app-lists", FAST_PORT, env, workers=1):
                base = f"http://127.0.0.1:{FAST_PORT}"
                headers = {"Authorization": "Bearer " + token(base, "bench-admin-00", PASSWORD)}
                session = requests.Session()
                session.headers.update(headers)
                last = -(-size // 50)
                urls = {
                    "page 1": "/api/tickets/?page_size=50",
                    "last page": f"/api/tickets/?page_size=50&page={last}",
                    "last page, cursor mode": f"/api/tickets/?page_size=50&cursor={cursor}",
                    "search, many matches": f"/api/tickets/?page_size=50&search={LIST_SEARCH}",
                    "search, one match": f"/api/tickets/?page_size=50&search={LIST_NEEDLE}",
                    "detail": f"/api/tickets/{deep['id']}/",
                }
                for path in urls.values():
                    timed(session, "GET", base + path, 200)  # warm-up
                # Round after round of one request each, so a passing disturbance of this
                # machine falls on every request alike rather than on one request's samples.
                samples: dict[str, list[float]] = {name: [] for name in urls}
                for _ in range(LIST_SAMPLES):
                    for name, path in urls.items():
                        samples[name].append(timed(session, "GET", base + path, 200))
                row = {name: summary(values) for name, values in samples.items()}
                for name, path in urls.items():
                    if name.startswith("search"):
                        row[name]["matches"] = session.get(base + path).json()["count"]
                        row[name]["query"] = path.rsplit("search=", 1)[1]
                # API and bare view take turns, THROUGHPUT_ROUNDS times, so a drift in this
                # machine's load hits both alike; each side's median round is kept.
                rounds: dict[str, list[float]] = {}
                for _ in range(THROUGHPUT_ROUNDS):
                    for name, api, bare in (("list", urls["page 1"], "/bare/tickets/?page_size=50"),
                                            ("detail", urls["detail"], f"/bare/tickets/{deep['id']}/")):
                        for side, path in (("api", api), ("bare", bare)):
                            hammer(base + path, headers=headers, requests_total=40, clients=LIST_CLIENTS)
                            rounds.setdefault(f"{name} {side}", []).append(hammer(
                                base + path, headers=headers, requests_total=LIST_REQUESTS,
                                clients=LIST_CLIENTS)["rps"])
                throughput = {key: statistics.median(values) for key, values in rounds.items()}
                results[size] = {"latency": row, "rps": throughput}
            print(f"  lists at {size:,}: page 1 {row['page 1']['median_ms']:.0f} ms, search "
                  f"{row['search, many matches']['median_ms']:.0f} ms", flush=True)
        finally:
            pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    return results


def files(url: str) -> dict:
    """A FILE_MB MB upload and download through the API (its checks: who may attach, the size and
    the type read from the content, the row, the counts; the download's visibility checks) beside
    bare Django views doing the same through the same storage (bench/bare_urls.py), in one
    gunicorn process. Request by request, the sides taking turns; each side's median kept."""
    folder = Path(tempfile.mkdtemp(prefix="bench-files-"))
    env = app_env(url, DJANGO_SETTINGS_MODULE="bare_settings", PYTHONPATH=str(ROOT / "bench"),
                  ATTACHMENT_ROOT=str(folder))
    # A PNG's signature and then noise: read as an image, and nothing compresses it.
    content = b"\x89PNG\r\n\x1a\n" + os.urandom(FILE_MB * 2**20 - 8)
    upload = {"file": ("screenshot.png", content, "image/png")}
    try:
        with gunicorn("app-files", FAST_PORT, env, workers=1):
            base = f"http://127.0.0.1:{FAST_PORT}"
            session = requests.Session()
            session.headers["Authorization"] = "Bearer " + token(base, "bench-client", PASSWORD)
            ticket = session.post(f"{base}/api/tickets/", json=TICKET, timeout=60).json()["id"]
            api_path = f"{base}/api/tickets/{ticket}/attachments/"
            sent = session.post(api_path, files=upload, timeout=60).json()
            kept = session.post(f"{base}/bare/files/", files=upload, timeout=60).json()
            api_file = base + sent["download_url"]
            bare_file = f"{base}/bare/files/{kept['key'].rsplit('/', 1)[1]}/"
            assert session.get(api_file, timeout=60).content == content
            assert session.get(bare_file, timeout=60).content == content
            samples: dict[str, list[float]] = {}
            steps = {"upload": (("POST", api_path, 201, {"files": upload}),
                                ("POST", f"{base}/bare/files/", 201, {"files": upload})),
                     "download": (("GET", api_file, 200, {}), ("GET", bare_file, 200, {}))}
            for round_ in range(FILE_SAMPLES):
                for way, (api, bare) in steps.items():
                    # Side by side, the first one changing every round: whatever the machine is
                    # doing at that moment (flushing files to disk) falls on both alike.
                    pair = ((api, "api"), (bare, "bare"))
                    for (method, target, expect, extra), side in pair[::(-1) ** round_]:
                        samples.setdefault(f"{way} {side}", []).append(
                            timed(session, method, target, expect, **extra))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {name: summary(values) for name, values in samples.items()}
    for way in ("upload", "download"):
        # API speed ÷ bare speed, pair by pair (the bare request's time ÷ the API's in the same
        # round); the median pair is kept.
        result[f"{way} ratio"] = statistics.median(
            bare / api for api, bare in zip(samples[f"{way} api"], samples[f"{way} bare"]))
    result["megabytes"] = FILE_MB
    return result


def timers_bench() -> dict:
    """TIMER_CLOCKS open tickets with running clocks on PostgreSQL: the timer pass idle, and from
    a breach to its page answered by Graph (the simulator at LATENCY_MS), inline."""
    db = f"{PG_DB}_timers"
    pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {db}")
    env = {**app_env(PG_SERVER.rsplit("/", 1)[0] + f"/{db}"), **graph_env(SIM_PORT)}
    try:
        manage(env, "migrate", "--noinput")
        seed(env, "users", 1)
        return {**seed(env, "timers", TIMER_CLOCKS), "graph_ms": LATENCY_MS,
                "tick_seconds": 5, "recovery_seconds": 60}
    finally:
        pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def pace_window() -> float:
    """The pacer's window (notifications.whatsapp.pacing.WINDOW): one send per WINDOW / cap seconds."""
    done = subprocess.run(
        [PYTHON, "-c", "from notifications.whatsapp.pacing import WINDOW; print(WINDOW)"],
        cwd=ROOT, env=app_env("sqlite:///:memory:"), check=True, capture_output=True, text=True)
    return float(done.stdout.strip())


def max_workers() -> int:
    """The product's default, as the concurrent server ran with it."""
    done = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c",
         "from django.conf import settings; print(settings.WHATSAPP_MAX_WORKERS)"],
        cwd=ROOT, env=app_env("sqlite:///:memory:"), check=True, capture_output=True, text=True)
    return int(done.stdout.strip().splitlines()[-1])


# --- Report ----------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    import django
    import psycopg
    import sqlite3

    with psycopg.connect(PG_SERVER) as connection:
        pg_version = connection.execute("SHOW server_version").fetchone()[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory_kb / 2**20),
            "os": platform.platform(), "python": platform.python_version(),
            "django": django.get_version(), "postgresql": pg_version,
            "sqlite": sqlite3.sqlite_version}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: dict = {"machine": machine(), "when": datetime.now(timezone.utc).isoformat(timespec="minutes")}
    simulator = [PYTHON, "bench/simulator.py", "--port", str(SIM_PORT), "--latency-ms",
                 str(LATENCY_MS)]
    with databases() as urls, process("simulator", simulator, os.environ.copy(),
                                      f"http://127.0.0.1:{SIM_PORT}/"):
        results["list"], results["webhook"] = {}, {}
        for name, url in urls.items():
            print(f"{name}: migrating and seeding", flush=True)
            env = prepare(url)
            results["list"][name] = {**ticket_list(env), "queries": seed(env, "queries", 0)}
            print(f"  list: {results['list'][name]['rps']:.0f} requests/s", flush=True)
            results["webhook"][name] = webhook(env)
            print(f"  webhook: p99 {results['webhook'][name]['p99_ms']:.0f} ms", flush=True)
            if name == "PostgreSQL":
                results["fanout"] = fanout(env)
                results["console"] = console_overhead(env)
                results["scale_out"] = scale_out(env)
                results["lists"] = list_scaling()
                results["files"] = files(url)
                print(f"  files: upload {results['files']['upload ratio']:.2f} x bare, download "
                      f"{results['files']['download ratio']:.2f} x bare", flush=True)
                print(f"  scale-out: {results['scale_out']['sustained']['per_second']:.0f} "
                      "messages/s sustained", flush=True)
                # After the fan-out, which counts every message that reached a stand-in.
                results["taps"] = tap_webhook(env)
                print(f"  one tap, Graph at 2 s: p50 {results['taps']['median_ms']:.0f} ms, "
                      f"p99 {results['taps']['p99_ms']:.0f} ms", flush=True)
                results["slow_phone"] = slow_phone(env)
                print(f"  {SLOW_CREATES} creates, one phone at 8 s: slowest "
                      f"{results['slow_phone']['max_ms'] / 1000:.1f} s", flush=True)
                results["burst"] = burst(env)
                print(f"  burst: {results['burst']['per_second']:.1f} messages/s, cap "
                      f"{BURST_CAP}, busiest second {results['burst']['busiest_second']}", flush=True)
                results["ceiling"] = ceiling(env)
                print(f"  inline ceiling: {results['ceiling']['this']['messages_per_s']:.0f} "
                      "messages/s", flush=True)
                results["peer"] = peer(env)
                print(f"  create beside django-helpdesk: {results['peer'].get('ratio', 0):.2f} x",
                      flush=True)
                results["insights"] = seed(env, "insights", INSIGHT_ROWS)
                results["timers"] = timers_bench()
                print(f"  timers at {results['timers']['clocks']:,} clocks: idle tick "
                      f"{results['timers']['idle_ms']:.0f} ms, breach to Graph "
                      f"{results['timers']['breach_to_graph_ms']:.0f} ms", flush=True)
    results["seconds"] = time.monotonic() - started
    results["max_workers"] = max_workers()
    results["baseline"] = BASELINE
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    from report import write_report

    write_report(results, ROOT / "docs")
    print(f"Done in {results['seconds']:.0f} s: docs/benchmarks.md, docs/benchmarks.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
