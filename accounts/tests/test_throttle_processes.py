"""The login throttle across processes: gunicorn with two workers sharing Redis (REDIS_URL) counts
failed logins once, whatever X-Forwarded-For says. .ci/run runs this; it needs PostgreSQL (the
server reads the test database) and Redis."""
import sys
from collections import Counter

import pytest
import requests

from Incident.tests.processes import Watched, app_env, wait_for
from tickets.tests.threads import skip_unless_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ATTEMPTS, RATE = 60, 20


def test_wrong_logins_across_two_processes_are_throttled_at_the_configured_rate(
        redis_url, unique, free_port):
    skip_unless_postgres()
    env = app_env(redis_url, unique, AUTH_THROTTLE_RATE=f"{RATE}/hour", SECURE_SSL_REDIRECT="False",
                  ALLOWED_HOSTS="127.0.0.1", TRUSTED_PROXY_COUNT="0",
                  CACHE_KEY_PREFIX=f"test-{unique}")
    # The access log names the worker (pid) that answered each request.
    server = Watched([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                      f"127.0.0.1:{free_port}", "--access-logfile", "-", "--access-logformat",
                      "served-by %(p)s %(s)s", "Incident.wsgi:application"], env)
    try:
        wait_for(lambda: sum("Booting worker" in line for line in server.lines) == 2, 60,
                 "both gunicorn workers", server)
        answers = []
        for n in range(ATTEMPTS):
            # A new connection each time, so the kernel hands them to either worker; a new
            # forged client address each time, which must not reset anything.
            answers.append(requests.post(
                f"http://127.0.0.1:{free_port}/api/auth/token/",
                json={"username": f"guess{n}", "password": "wrong"},
                headers={"X-Forwarded-For": f"203.0.113.{n}", "Connection": "close"}, timeout=10))
    finally:
        server.kill()
    codes = Counter(answer.status_code for answer in answers)
    assert codes == {401: RATE, 429: ATTEMPTS - RATE}
    assert [a.status_code for a in answers[:RATE]] == [401] * RATE
    workers = {line.split()[1] for line in server.lines if line.startswith("served-by")}
    assert len(workers) == 2, "both worker processes should have answered"
