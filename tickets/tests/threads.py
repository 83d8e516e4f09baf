"""Run the same work in many threads at once, for the PostgreSQL concurrency tests."""
import threading

from django.db import connection, connections

import pytest


def skip_unless_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks; .ci/run runs this on PostgreSQL")


def all_at_once(count: int, work) -> list:
    """Run `work()` in `count` threads released together; return what each returned."""
    barrier = threading.Barrier(count)
    results, lock = [], threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            outcome = work()
        finally:
            connections.close_all()  # each thread's own connection
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
