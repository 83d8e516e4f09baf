"""Turn bench/run.py's results into docs/benchmarks.md and docs/benchmarks.png."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen: draw straight to PNG
import matplotlib.pyplot as plt  # noqa: E402

FANOUT_TARGET = 1.05  # 20 recipients within 1.05 × the 1-recipient latency
BASELINE_MARGIN = 1.1  # 1 and 20 recipients within 10 % of the baseline commit's latency
WEBHOOK_TARGET_MS = 250
TAP_TARGETS_MS = (250, 500)  # one tap's webhook answer, p50 and p99, with Graph at 2 s
SLOW_PHONE_TARGET = 1.0  # the slowest of the concurrent creates ÷ the time bound
BURST_TARGET = 0.8  # a burst on the workers: messages a second ÷ the cap (and never over it)
CEILING_TARGET = 1.0  # inline delivery ceiling ÷ the baseline commit's
PEER_TARGET = 0.6  # a ticket create ÷ django-helpdesk's
WORKER_CREATE_TARGET = 1.2  # a create in worker mode within 1.2 × the console-mode create
GROWTH_TARGET = 1.5  # each list request at the largest size within 1.5 × the smallest
BARE_TARGETS = {"list": 0.7, "detail": 0.85}  # API throughput ÷ the bare .values() view


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def write_report(results: dict, docs: Path) -> None:
    docs.mkdir(exist_ok=True)
    _chart(results, docs / "benchmarks.png")
    (docs / "benchmarks.md").write_text(_markdown(results), encoding="utf-8")


def _baseline_lines(r: dict, fan: dict) -> list[str]:
    """The same requests against BENCH_BASELINE's code, when the run had one."""
    if not r.get("baseline"):
        return []
    lines = ["", f"Beside the baseline `{r['baseline']}` (`BENCH_BASELINE`), checked out and served"
             " the same way in the same run, requests taking turns with the servers above:", "",
             "| recipients | this tree | baseline | this ÷ baseline |", "| --- | --- | --- | --- |"]
    for count, row in sorted(fan.items()):
        now, then = row["concurrent"]["median_ms"], row["baseline"]["median_ms"]
        lines.append(f"| {count} | {_ms(now)} | {_ms(then)} | {now / then:.2f} × |")
    worst = max(fan[n]["concurrent"]["median_ms"] / fan[n]["baseline"]["median_ms"] for n in (1, 20))
    verdict = "met" if worst <= BASELINE_MARGIN else "**missed**"
    lines += ["", f"Target: 1 and 20 recipients within 10 % of the baseline. Worst of the two:"
              f" {worst:.2f} × ({verdict})."]
    return lines


def _markdown(r: dict) -> str:
    m = r["machine"]
    fan = {int(k): v for k, v in r["fanout"].items()}
    base = fan[1]["concurrent"]["median_ms"]
    ratio_20 = fan[20]["concurrent"]["median_ms"] / base
    seq_ratio_20 = fan[20]["sequential"]["median_ms"] / fan[1]["sequential"]["median_ms"]
    console = {int(k): v for k, v in r["console"].items()}
    overhead = console[3]["median_ms"] / console[0]["median_ms"]
    hook_pg = r["webhook"]["PostgreSQL"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand. Every ratio below compares",
        "figures taken in the same run; absolute figures hold only for the machine they came from.",
        "",
        f"Run: {r['when']}, {r['seconds']:.0f} s in all.",
        "",
        "| machine | |",
        "| --- | --- |",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| memory | {m['memory_gib']} GiB |",
        f"| system | {m['os']} |",
        f"| software | Python {m['python']}, Django {m['django']}, PostgreSQL {m['postgresql']},"
        f" SQLite {m['sqlite']} |",
        "",
        "Set-up: the app under gunicorn (`gunicorn.conf.py`, 4 threads a process, DEBUG off; 2",
        "processes for the list and the webhook, 1 for the one-request-at-a-time fan-out runs),",
        "load from a separate process over loopback, and `bench/simulator.py` standing in for Graph's",
        "send endpoint with 100 ms per message. Median and p95 are nearest-rank over the samples.",
        "",
        "![Fan-out latency and list throughput](benchmarks.png)",
        "",
        "## Notification fan-out",
        "",
        "Latency of `POST /api/tickets/` (the request waits for its WhatsApp messages), with N active",
        "admins to tell, on PostgreSQL. *Concurrent* is the product (`WHATSAPP_MAX_WORKERS` default);",
        "*sequential* is the same code with `WHATSAPP_MAX_WORKERS=1`, one message after another.",
        "Both servers ran side by side, requests taking turns.",
        "",
        "| recipients | concurrent median | concurrent p95 | sequential median | sequential p95 |"
        " concurrent ÷ 1-recipient | sequential ÷ 1-recipient |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for count, row in sorted(fan.items()):
        c, s = row["concurrent"], row["sequential"]
        lines.append(
            f"| {count} | {_ms(c['median_ms'])} | {_ms(c['p95_ms'])} | {_ms(s['median_ms'])} |"
            f" {_ms(s['p95_ms'])} | {c['median_ms'] / base:.2f} ×"
            f" | {s['median_ms'] / fan[1]['sequential']['median_ms']:.2f} × |")
    verdict = "met" if ratio_20 <= FANOUT_TARGET else "**missed**"
    lines += [
        "",
        f"Target: 20 recipients within {FANOUT_TARGET} × the 1-recipient latency. Measured"
        f" {ratio_20:.2f} × ({verdict}); the sequential sender took {seq_ratio_20:.1f} ×.",
        *_baseline_lines(r, fan),
        f"Samples: {fan[1]['concurrent']['n']} per cell. Recipients beyond"
        f" `WHATSAPP_MAX_WORKERS` ({r['max_workers']}) wait for a free slot: a second round trip.",
        "",
        "## Ticket list",
        "",
        f"`GET /api/tickets/?page_size=50` as an admin over 10,000 tickets, "
        f"{r['list']['SQLite']['clients']} clients at once.",
        "",
        "| database | requests/s | median | p95 | requests | queries per request (page size 5 / 50 / 100) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in r["list"].items():
        q = {int(k): v for k, v in row["queries"].items()}
        lines.append(f"| {name} | {row['rps']:.0f} | {_ms(row['median_ms'])} | {_ms(row['p95_ms'])}"
                     f" | {row['n']} | {q[5]} / {q[50]} / {q[100]} |")
    lines += [
        "",
        "Queries per request do not grow with the page: `tickets/tests/test_api_list.py::"
        "test_query_count_does_not_grow_with_page_size`",
        "asserts the same count, at most 5, for page sizes 5 and 100 with",
        "`django_assert_max_num_queries`, on SQLite and PostgreSQL in CI.",
        "",
        "## Webhook ingestion",
        "",
        "Signed `POST`s to `/api/notifications/whatsapp/webhook/`, each with 100 delivery statuses",
        "for rows among 10,000, one after another as Meta sends them.",
        "",
        "| database | statuses/s | median per POST | p95 | p99 | POSTs |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in r["webhook"].items():
        lines.append(f"| {name} | {row['statuses_per_s']:.0f} | {_ms(row['median_ms'])} |"
                     f" {_ms(row['p95_ms'])} | {_ms(row['p99_ms'])} | {row['n']} |")
    verdict = "met" if hook_pg["p99_ms"] < WEBHOOK_TARGET_MS else "**missed**"
    lines += [
        "",
        f"Target: p99 under {WEBHOOK_TARGET_MS} ms on PostgreSQL. Measured {_ms(hook_pg['p99_ms'])}"
        f" ({verdict}).",
        "",
        "## What notifying costs in console mode",
        "",
        "`POST /api/tickets/` on PostgreSQL with no access token (messages printed, rows logged as",
        "SKIPPED): no admin to tell against 3 admins.",
        "",
        "| recipients | median | p95 |",
        "| --- | --- | --- |",
        f"| 0 | {_ms(console[0]['median_ms'])} | {_ms(console[0]['p95_ms'])} |",
        f"| 3 | {_ms(console[3]['median_ms'])} | {_ms(console[3]['p95_ms'])} |",
        "",
        f"Overhead: {overhead:.2f} × the request without notifications.",
        "",
        *_scale_out_lines(r["scale_out"]),
        *_doors_lines(r["taps"], r["slow_phone"]),
        *_delivery_lines(r),
        *_list_lines(r["lists"]),
        *_files_lines(r.get("files")),
        *_insights_lines(r["insights"]),
        *_timers_lines(r.get("timers")),
    ]
    return "\n".join(lines)


def _doors_lines(taps: dict, slow: dict) -> list[str]:
    """The webhook answering before any message it causes; requests bounded by their own rows."""
    tap_met = taps["median_ms"] <= TAP_TARGETS_MS[0] and taps["p99_ms"] <= TAP_TARGETS_MS[1]
    ratio = slow["max_ms"] / slow["bound_ms"]
    return [
        "## Each door does its own work",
        "",
        f"A signed webhook carrying one admin's tap of **Open** on a new ticket, {taps['n']} one "
        f"after another, with Graph at {taps['graph_ms'] / 1000:g} s a message (the tap's answer "
        "and the client's \"opened\" go out after the response): "
        f"median {_ms(taps['median_ms'])}, p99 {_ms(taps['p99_ms'])}. Target: p50 ≤ "
        f"{TAP_TARGETS_MS[0]} ms and p99 ≤ {TAP_TARGETS_MS[1]} ms "
        f"({'met' if tap_met else '**missed**'}).",
        "",
        f"{slow['creates']} ticket creates at once, each telling {slow['admins']} admins, while one "
        f"admin's phone answers in {slow['slow_ms'] / 1000:g} s (the others in 100 ms); time bound "
        f"{slow['bound_ms'] / 1000:g} s. Each request sends only its own rows and waits at most "
        "the bound for them, holding its server thread meanwhile, so it is measured with the "
        "default threads and with a thread for each concurrent create (docs/deploying.md, \"Deploying\": "
        "size the threads for the creates you expect at once when a phone may be slow):",
        "",
        "| server threads (processes × threads) | median | slowest | slowest ÷ bound |",
        "| --- | --- | --- | --- |",
        *[f"| {run['threads']} ({shape}) | "
          f"{run['median_ms'] / 1000:.1f} s | {run['max_ms'] / 1000:.1f} s | "
          f"{run['max_ms'] / slow['bound_ms']:.2f} × |"
          for shape, run in slow.get("by_threads", {}).items()],
        "",
        f"Target: the slowest within the bound (≤ {SLOW_PHONE_TARGET:g} ×) with a thread per "
        f"concurrent create: {ratio:.2f} × ({'met' if ratio <= SLOW_PHONE_TARGET else '**missed**'}). "
        "With fewer threads than creates, the later requests first wait for a free thread.",
        "",
    ]


def _delivery_lines(r: dict) -> list[str]:
    """The burst on the workers, the inline ceiling beside the baseline, a create beside the peer."""
    lines = ["## Delivery: a burst, the inline ceiling, a create beside django-helpdesk", ""]
    b = r.get("burst")
    if b:
        share_met = b["share"] >= BURST_TARGET and b["busiest_second"] <= b["cap"]
        lines += [
            f"A burst: {b['events']} tickets filed at once (8 clients), each telling {b['people']} "
            f"admins ({b['messages']} messages), two Celery workers, Graph at {b['graph_ms']} ms, "
            f"`WHATSAPP_MAX_MESSAGES_PER_SECOND={b['cap']}`: {b['per_second']:.1f} messages/s "
            f"from the first to the last arrival, {b['share']:.2f} × the cap, "
            f"{b['busiest_second']} in the busiest second. Target: ≥ {BURST_TARGET} × the cap and "
            f"never over it ({'met' if share_met else '**missed**'}). The creates answered in "
            f"{_ms(b['creates']['median_ms'])} (median).", ""]
    c = r.get("ceiling")
    if c:
        lines += [
            f"The inline ceiling: {c['clients']} clients filing tickets back to back for "
            f"{c['seconds']} s, each ticket telling {c['admins']} admins, Graph at 200 ms, "
            f"{c['server_threads']} server threads, inline mode:", "",
            "| code | events/s | messages/s | median create | p95 |", "| --- | --- | --- | --- | --- |"]
        for name in ("this", "baseline"):
            if name in c:
                row = c[name]
                label = "this tree" if name == "this" else f"baseline `{r.get('baseline')}`"
                lines.append(f"| {label} | {row['events_per_s']:.1f} | {row['messages_per_s']:.1f} |"
                             f" {_ms(row['median_ms'])} | {_ms(row['p95_ms'])} |")
        if "ratio" in c:
            lines += ["", f"Target: messages a second ≥ {CEILING_TARGET} × the baseline's. Measured "
                      f"{c['ratio']:.2f} × ({'met' if c['ratio'] >= CEILING_TARGET else '**missed**'})."]
        lines.append("")
    p = r.get("peer")
    if p and "ratio" in p:
        versions = p.get("versions") or {}
        lines += [
            f"A ticket create beside django-helpdesk {versions.get('django-helpdesk', '2.6.1')} on the same "
            "machine and PostgreSQL (`../shared/peers/helpdesk/` sets it up, seeds 10,000 tickets "
            "and times it): one client, one `POST` after another, a new connection each; ours in "
            "console mode telling one admin, theirs e-mailing the submitter.", "",
            "| product | median | p95 | SQL statements per create |", "| --- | --- | --- | --- |",
            f"| this tree | {_ms(p['this']['median_ms'])} | {_ms(p['this']['p95_ms'])} | "
            f"{p['this']['sql']} |",
            f"| django-helpdesk | {_ms(p['peer']['median_ms'])} | {_ms(p['peer']['p95_ms'])} | "
            f"{p['peer']['sql']} |", "",
            f"Target: ≤ {PEER_TARGET} × theirs. Measured {p['ratio']:.2f} × "
            f"({'met' if p['ratio'] <= PEER_TARGET else '**missed**'}).", ""]
    elif p:
        lines += [f"The django-helpdesk comparison did not run: no kit at `{p['missing']}`.", ""]
    return lines


def _insights_lines(insights: dict) -> list[str]:
    lines = ["## Notification insights on a large log", "",
             "The admin page \"Notification insights\" rendered in-process on PostgreSQL, the log"
             " spread over 30 days, after the running counts were folded (as the recovery pass"
             " does every minute), median of 7:", "",
             "| log rows | median | slowest | queries | target |", "| --- | --- | --- | --- | --- |"]
    for size in insights["sizes"]:
        met = "met" if size["median_ms"] <= 100 else "**missed**"
        lines.append(f"| {size['rows']:,} | {_ms(size['median_ms'])} | {_ms(size['max_ms'])} |"
                     f" {size['queries']} | ≤ 100 ms ({met}) |")
    # A section measured again on its own (bench/seed.py insights) after a fix, says so.
    return [*lines, *(["", insights["note"]] if insights.get("note") else []), ""]


BREACH_TARGET_MS = 1000  # from a breach to its page at Graph, beyond the wait for the tick


def _timers_lines(t: dict | None) -> list[str]:
    if not t:
        return []
    met = "met" if t["breach_to_graph_max_ms"] <= BREACH_TARGET_MS else "**missed**"
    storm = "met" if t["storm_ms"] <= BREACH_TARGET_MS else "**missed**"
    return [
        "## Deadlines: the timer pass over 100,000 open tickets", "",
        f"{t['clocks']:,} running clocks (two for each of {t['clocks'] // 2:,} NEW tickets,"
        " deadlines spread over 30 days) on PostgreSQL, under a policy whose chain pages one"
        f" developer at once; Graph is the simulator at {t['graph_ms']} ms, sends inline. The"
        " timer pass (`notifications.services.tick`: warnings, breaches, escalation steps, pages"
        " that did not get through) is what Celery beat runs every"
        f" `TIMER_TICK_SECONDS` ({t['tick_seconds']} s) and the recovery pass every"
        f" {t['recovery_seconds']} s, so a page reaches Graph at most one tick after its deadline"
        " plus the figure below.", "",
        "| what | median | slowest | target |", "| --- | --- | --- | --- |",
        f"| one tick with nothing due (30 ticks) | {_ms(t['idle_ms'])} | {_ms(t['idle_max_ms'])} |"
        " — |",
        f"| one breach → its page answered by Graph ({t['breaches']} breaches, one per tick) |"
        f" {_ms(t['breach_to_graph_ms'])} | {_ms(t['breach_to_graph_max_ms'])} |"
        f" tick + ≤ {BREACH_TARGET_MS // 1000} s ({met}) |",
        f"| {t['storm']} deadlines in one tick → the last page answered | {_ms(t['storm_ms'])} |"
        f" — | tick + ≤ {BREACH_TARGET_MS // 1000} s ({storm}) |",
        "", "Each breach commits on its own (history, run, page, notification rows); the pages of"
        " one tick are then sent together, up to `WHATSAPP_MAX_WORKERS` at once.", ""]


FILE_TARGET = 0.8  # API speed ÷ bare Django's, for a file up and down


def _files_lines(f: dict | None) -> list[str]:
    if not f:
        return []
    lines = ["## Attachments: a screenshot up and down", "",
             f"A {f['megabytes']} MB PNG uploaded with `POST /api/tickets/{{id}}/attachments/` and"
             " downloaded through its `download_url`, beside bare Django views that save the same"
             " upload into the same storage and serve it back with `FileResponse`, without the"
             " API's checks (bench/bare_urls.py); one gunicorn process on PostgreSQL, one request"
             " at a time, API and bare side by side in each round (the first one alternating)."
             " Speed ratio: each round's bare time ÷ API time, the median round's.", "",
             "| request | API median | API p95 | bare median | bare p95 | API ÷ bare speed | target |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for way in ("upload", "download"):
        api, bare, ratio = f[f"{way} api"], f[f"{way} bare"], f[f"{way} ratio"]
        verdict = "met" if ratio >= FILE_TARGET else "**missed**"
        lines.append(f"| {way} | {_ms(api['median_ms'])} | {_ms(api['p95_ms'])} |"
                     f" {_ms(bare['median_ms'])} | {_ms(bare['p95_ms'])} | {ratio:.2f} × |"
                     f" ≥ {FILE_TARGET} × ({verdict}) |")
    return lines + [""]


def _list_lines(lists: dict) -> list[str]:
    sizes = sorted(int(size) for size in lists)
    rows = {int(size): value for size, value in lists.items()}
    small, large = sizes[0], sizes[-1]
    requests_ = list(rows[small]["latency"])
    lines = [
        "## Ticket lists as the table grows",
        "",
        f"`GET /api/tickets/` as an admin on PostgreSQL, a database per size, one request at a time,"
        f" the requests taking turns, median of {rows[small]['latency']['page 1']['n']} each: page 1 and the last page of 50"
        " (page numbers), the last page in cursor mode (`?cursor=`), two searches and a detail"
        " (seeded tickets have no history). "
        + "; ".join(f"`{rows[small]['latency'][name]['query']}` finds " + ", ".join(
            f"{rows[size]['latency'][name]['matches']:,} of {size:,}" for size in sizes) + " tickets"
            for name in rows[small]["latency"] if name.startswith("search"))
        + ": a page of many matches renders more rows than a page of one.",
        "",
        "| request | " + " | ".join(f"{size:,} tickets" for size in sizes) + " | "
        + " | ".join(f"{size:,} ÷ {small:,}" for size in sizes[1:]) + " |",
        "| --- |" + " --- |" * (2 * len(sizes) - 1),
    ]
    for name in requests_:
        values = [rows[size]["latency"][name]["median_ms"] for size in sizes]
        ratios = [value / values[0] for value in values[1:]]
        lines.append(f"| {name} | " + " | ".join(_ms(v) for v in values) + " | " + " | ".join(
            f"{r:.2f} ×" + ("" if r <= GROWTH_TARGET else " (**over 1.5 ×**)") for r in ratios) + " |")
    many = [rows[size]["latency"]["search, many matches"] for size in sizes]
    page = rows[small]["latency"]["page 1"]["median_ms"]
    lines += ["", f"Target: each within {GROWTH_TARGET} × from {small:,} to {sizes[1]:,} tickets"
              f" (and, where measured, to {large:,}).", "",
              "The many-match search's answer grows with the table ("
              + ", ".join(f"{m['matches']:,}" for m in many) + " matches): its page renders 50"
              " rows where it rendered one (page 1, 50 rows and no search, takes"
              f" {page / many[0]['median_ms']:.2f} × the one-row answer at {small:,} tickets), and"
              " an exact count and a ranking by relevance read every match. Beside page 1 at"
              f" {small:,} tickets, the same 50 rows: "
              + ", ".join(f"{m['median_ms'] / page:.2f} × at {size:,}" for m, size in
                          zip(many[1:], sizes[1:])) + ".", "",
              f"Throughput at {large:,} tickets beside plain Django views returning the same page"
              " of the same fields with `.values()` (bench/bare_urls.py), same gunicorn process, the"
              " two taking turns over three rounds (median round of each):", "",
              "| request | API requests/s | bare requests/s | API ÷ bare | target |",
              "| --- | --- | --- | --- | --- |"]
    for name, target in BARE_TARGETS.items():
        api, bare = rows[large]["rps"][f"{name} api"], rows[large]["rps"][f"{name} bare"]
        verdict = "met" if api / bare >= target else "**missed**"
        lines.append(f"| {name} | {api:.0f} | {bare:.0f} | {api / bare:.2f} × | ≥ {target} × ({verdict}) |")
    return lines + [""]


def _scale_out_lines(s: dict) -> list[str]:
    creates, sus = s["creates"], s["sustained"]
    ratio = creates["celery"]["median_ms"] / creates["console"]["median_ms"]
    verdict = "met" if ratio <= WORKER_CREATE_TARGET else "**missed**"
    cap = "met" if sus["busiest_second"] <= sus["cap"] else "**exceeded**"
    lines = [
        "## Scale-out: Celery workers over Redis",
        "",
        "`POST /api/tickets/` on PostgreSQL telling 3 admins, Graph answering in 300 ms: console",
        "mode (nothing sent), inline (`NOTIFICATION_DELIVERY=inline`, the request sends) and worker",
        "mode (`NOTIFICATION_DELIVERY=celery`, two Celery workers send; the request only commits",
        "and hands over; each create after the workers sent the one before, as they run on",
        "hosts of their own in production, not on the app server's two cores). Every message of",
        "the inline and worker runs was counted at Graph's stand-in.",
        "",
        "| mode | median | p95 | requests |",
        "| --- | --- | --- | --- |",
    ]
    for name in ("console", "inline", "celery"):
        row = creates[name]
        lines.append(f"| {name} | {_ms(row['median_ms'])} | {_ms(row['p95_ms'])} | {row['n']} |")
    lines += [
        "",
        f"Target: worker mode within {WORKER_CREATE_TARGET} × console mode, whatever Graph's"
        f" latency. Measured {ratio:.2f} × ({verdict}).",
        "",
        f"Sustained delivery: {sus['events']} tickets created at once, each telling"
        f" {sus['recipients']} admins ({sus['messages']:,} messages), two workers, Graph at 200 ms,"
        f" `WHATSAPP_MAX_MESSAGES_PER_SECOND={sus['cap']}`: {sus['per_second']:.1f} messages/s"
        f" from the first to the last arrival at the stand-in, {sus['busiest_second']} in its"
        f" busiest one-second window (cap {sus['cap']}: {cap}). The pacer spaces sends"
        f" {sus['pace_window']:g} s ÷ {sus['cap']} apart, at most"
        f" {sus['cap'] / sus['pace_window']:.1f} a second: the margin over one second absorbs the"
        " unequal times requests take to arrive (up to about 80 ms apart here), which put more"
        " than the cap into one second at Graph when the spacing was tighter (1.03 s: 77.7"
        " messages/s and 84 in the busiest second, in a trial on this machine).",
        "",
    ]
    return lines


def _chart(r: dict, path: Path) -> None:
    fan = {int(k): v for k, v in r["fanout"].items()}
    counts = sorted(fan)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, colour in (("concurrent", "#2e7d32"), ("sequential", "#c62828")):
        left.plot(counts, [fan[c][name]["median_ms"] for c in counts], marker="o", color=colour,
                  label=name)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xticks(counts, [str(c) for c in counts])
    left.set_xlabel("recipients")
    left.set_ylabel("ticket create, median ms (log)")
    left.set_title("Fan-out at 100 ms per message")
    left.legend()
    left.grid(alpha=0.3)

    names = list(r["list"])
    right.bar(names, [r["list"][n]["rps"] for n in names], color=["#1565c0", "#6a1b9a"])
    for index, name in enumerate(names):
        right.annotate(f"p95 {r['list'][name]['p95_ms']:.0f} ms", (index, r["list"][name]["rps"]),
                       ha="center", va="bottom")
    right.set_ylabel("requests/s")
    right.set_title("Ticket list, 50 a page, 10,000 tickets")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
