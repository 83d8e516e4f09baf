"""Production readiness: the health check, JSON log lines, and a clean `check --deploy`."""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DatabaseError

from Incident.log_format import JsonFormatter
from tickets.tests.conftest import cast, ticket_in  # noqa: F401  (shared fixtures)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_is_200_while_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "notifications": {
        "queued": 0, "due": 0, "oldest_due_seconds": 0.0, "sending": 0}}


@pytest.mark.django_db
def test_healthz_reports_the_notification_queue(client, cast, ticket_in):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.models import NotificationLog

    ticket_in()  # TICKET_CREATED for the admin; the transaction never commits, so it waits
    NotificationLog.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=90))
    figures = client.get("/healthz").json()["notifications"]
    assert figures["queued"] == figures["due"] == NotificationLog.objects.count() >= 1
    assert 90 <= figures["oldest_due_seconds"] < 120 and figures["sending"] == 0


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_does_not(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def refuse(self, sql, params=None):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


def test_json_log_lines():
    record = logging.LogRecord("notifications.services", logging.INFO, __file__, 1,
                               "📱 WhatsApp sent to %s: %s", ("admin", "wamid.X"), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "📱 WhatsApp sent to admin: wamid.X"
    assert (line["level"], line["logger"]) == ("INFO", "notifications.services")
    assert line["time"].endswith("+00:00")


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "DJANGO_"))},
        "DEBUG": "False",
        "SECRET_KEY": "x7#pQ2!vL9@mR4$kT8^wZ1&nB6*cF3(hJ5)sD0-gY2+eU7=aI4%oN8~qV1",
        "JWT_SIGNING_KEY": "q3!Zr8#Lm2@Vt6$Np9^Xw4&Kc1*Hb7(Js5)Fd0-Gy8+Ue3=Ai6%On2~Qv5",
        "ALLOWED_HOSTS": "incident.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "WHATSAPP_ACCESS_TOKEN": "EAA-placeholder-for-the-check",
        "WHATSAPP_PHONE_NUMBER_ID": "123456789012345",
        "WHATSAPP_APP_SECRET": "placeholder-app-secret",
        "WHATSAPP_WEBHOOK_VERIFY_TOKEN": "placeholder-verify-token",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_secret_key_production_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update({"DEBUG": "False", "SECRET_KEY": "", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


@pytest.mark.parametrize("jwt_key, message", [
    ("", "JWT_SIGNING_KEY is required when DEBUG is off"),
    ("same-as-the-secret-key-0123456789", "JWT_SIGNING_KEY must differ from SECRET_KEY"),
])
def test_production_needs_a_jwt_key_of_its_own(tmp_path, jwt_key, message):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "JWT_SIGNING_KEY")}
    env.update({"DEBUG": "False", "SECRET_KEY": "same-as-the-secret-key-0123456789",
                "JWT_SIGNING_KEY": jwt_key, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("jwt_key", [
    "abc",                                           # the 3-character key check --deploy took
    "a" * 64,                                        # long, but one character
    "change-me-to-another-long-random-string",       # .env.example's placeholder
])
def test_check_deploy_refuses_a_weak_jwt_key(jwt_key):
    from django.conf import settings
    from django.core.checks import run_checks
    from django.test import override_settings

    with override_settings(SIMPLE_JWT={**settings.SIMPLE_JWT, "SIGNING_KEY": jwt_key}):
        errors = [e for e in run_checks(include_deployment_checks=True) if e.id == "accounts.E001"]
    assert len(errors) == 1
    assert "JWT_SIGNING_KEY is too weak" in errors[0].msg and "32 characters" in errors[0].hint


def test_check_deploy_takes_a_random_jwt_key():
    import secrets

    from django.conf import settings
    from django.core.checks import run_checks
    from django.test import override_settings

    with override_settings(SIMPLE_JWT={**settings.SIMPLE_JWT, "SIGNING_KEY": secrets.token_urlsafe(48)}):
        assert not [e for e in run_checks(include_deployment_checks=True) if e.id == "accounts.E001"]


def test_the_access_log_never_holds_the_verify_token():
    """gunicorn logs each request; the webhook handshake has the verify token in its query."""
    import datetime
    import runpy
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    config.set("access_log_format", conf["access_log_format"])
    logger = Logger(config)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/api/notifications/whatsapp/webhook/?hub.mode="
               "subscribe&hub.verify_token=SECRET-VERIFY-TOKEN&hub.challenge=1",
               "PATH_INFO": "/api/notifications/whatsapp/webhook/",
               "QUERY_STRING": "hub.mode=subscribe&hub.verify_token=SECRET-VERIFY-TOKEN",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    atoms = logger.atoms(SimpleNamespace(status="200 OK", sent=1, headers=[]), [], environ,
                         datetime.timedelta(milliseconds=3))
    line = conf["access_log_format"] % atoms
    assert "SECRET-VERIFY-TOKEN" not in line
    assert '"GET /api/notifications/whatsapp/webhook/ HTTP/1.1" 200' in line
