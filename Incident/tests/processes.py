"""Servers and workers run as real processes for the tests of what crosses processes: their
output collected as it comes, and a wait that wakes on it."""
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from django.db import connection


class Watched:
    """A process whose output lines are collected as they come; `changed` wakes whoever waits."""

    changed = threading.Condition()
    root = Path(__file__).resolve().parents[2]

    def __init__(self, command: list[str], env: dict, until_line: str | None = None,
                 stderr=subprocess.STDOUT) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=subprocess.PIPE,
                                        stderr=stderr, text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        if until_line is not None:
            wait_for(lambda: any(until_line in line for line in self.lines), 60,
                     f"{command[2:5]} to say {until_line!r}", self)

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # the worker and its pool: a lost host
            self.process.wait()


def wait_for(condition, seconds: float, what: str, *watched: Watched, must: bool = True) -> bool:
    """Until `condition()` holds, re-checked whenever a watched process says something (and at
    least every half second, for what only the database shows)."""
    give_up = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > give_up:
            if not must:
                return False
            tails = "\n".join(line for w in watched for line in w.lines[-15:])
            raise AssertionError(f"Gave up waiting for {what} after {seconds} s.\n{tails}")
        with Watched.changed:
            Watched.changed.wait(0.5)
    return True


def app_env(redis_url: str, unique: str, **settings: str) -> dict:
    """The environment of a production process (DEBUG off) on the test database and `redis_url`,
    with nothing of the developer's own WhatsApp, Celery or Redis settings."""
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WHATSAPP_", "NOTIFICATION_", "CELERY_", "REDIS_", "DATABASE_"))}
    return {
        **env, "DJANGO_SETTINGS_MODULE": "Incident.settings", "DEBUG": "False",
        "SECRET_KEY": f"processes-test-secret-{unique}-" + "x" * 40,
        "JWT_SIGNING_KEY": f"processes-test-jwt-{unique}-" + "y" * 40,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING",
        # These tests count every message on its own way out; digests would gather a storm's.
        "WHATSAPP_DIGEST_AFTER": "0", **settings,
    }
