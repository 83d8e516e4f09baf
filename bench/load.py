"""The load side of the benchmarks: plain HTTP from this process, never inside the app's."""
import math
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of values at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(latencies_ms: list[float]) -> dict:
    return {
        "n": len(latencies_ms),
        "median_ms": statistics.median(latencies_ms),
        "p95_ms": percentile(latencies_ms, 0.95),
        "p99_ms": percentile(latencies_ms, 0.99),
    }


def token(base: str, username: str, password: str) -> str:
    answer = requests.post(f"{base}/api/auth/token/", json={"username": username,
                                                            "password": password}, timeout=30)
    answer.raise_for_status()
    return answer.json()["access"]


def timed(session: requests.Session, method: str, url: str, expect: int, **kwargs) -> float:
    started = time.perf_counter()
    answer = session.request(method, url, timeout=60, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != expect:
        raise RuntimeError(f"{method} {url}: {answer.status_code} {answer.text[:300]}")
    return elapsed


def hammer(url: str, *, headers: dict, requests_total: int, clients: int) -> dict:
    """`clients` threads share `requests_total` GETs; gives throughput and latency figures."""
    latencies: list[float] = []
    lock = threading.Lock()
    left = iter(range(requests_total))

    def client() -> None:
        session = requests.Session()
        session.headers.update(headers)
        while True:
            with lock:
                if next(left, None) is None:
                    return
            elapsed = timed(session, "GET", url, 200)
            with lock:
                latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    wall = time.perf_counter() - started
    return {**summary(latencies), "rps": len(latencies) / wall, "clients": clients}
