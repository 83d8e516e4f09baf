"""The Graph API version table: the default is current, the check warns 90 days before the
configured version stops working and is an error after, and the insights page says so too."""
from datetime import date, timedelta

import pytest
from django.utils import timezone

from notifications.whatsapp import versions as graph_versions
from notifications.whatsapp.checks import check_whatsapp_settings

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize("version, today, level", [
    ("v21.0", TODAY, "warning"),                      # 52 days before 2027-01-21
    ("v21.0", date(2027, 1, 22), "error"),
    ("v21.0", date(2026, 10, 1), None),               # more than 90 days ahead
    ("v25.0", TODAY, None),
    ("v26.0", TODAY, None),                           # no day announced yet
    ("v27.0", TODAY, None),                           # newer than the table
    ("v17.0", TODAY, "error"),                        # older than the table
    ("v20.0", TODAY, "error"),                        # stopped on 2026-09-24
    ("v20.0", date(2026, 8, 1), "warning"),
])
def test_what_each_version_gets_told(version, today, level):
    heads_up = graph_versions.notice(version, today)
    assert (heads_up.level if heads_up else None) == level
    if heads_up:
        assert version in heads_up.message and graph_versions.DEFAULT in heads_up.message


def test_a_new_installation_gets_a_current_default():
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "Incident" / "settings.py").read_text()
    assert f'config("WHATSAPP_API_VERSION", default="{graph_versions.DEFAULT}")' in source
    # Against the real date: this starts failing 90 days before the default stops working, so
    # the default can never age out unnoticed again.
    until = graph_versions.AVAILABLE_UNTIL[graph_versions.DEFAULT]
    assert until - date.today() > graph_versions.WARN_AHEAD


@pytest.fixture
def expiring(monkeypatch, settings):
    """The configured version stops working in 30 days, whatever today is."""
    settings.WHATSAPP_API_VERSION = "v21.0"
    monkeypatch.setitem(graph_versions.AVAILABLE_UNTIL, "v21.0",
                        timezone.localdate() + timedelta(days=30))


def test_the_check_warns_ahead_and_fails_after(expiring, monkeypatch):
    [problem] = [p for p in check_whatsapp_settings(None) if "Graph API" in p.msg]
    assert problem.id == "notifications.W003" and "30 days from now" in problem.msg
    monkeypatch.setitem(graph_versions.AVAILABLE_UNTIL, "v21.0",
                        timezone.localdate() - timedelta(days=1))
    [problem] = [p for p in check_whatsapp_settings(None) if "Graph API" in p.msg]
    assert problem.id == "notifications.E008" and "every send fails" in problem.msg


def test_the_default_version_passes_the_check(settings):
    settings.WHATSAPP_API_VERSION = graph_versions.DEFAULT
    assert not [p for p in check_whatsapp_settings(None) if "Graph API" in p.msg]


@pytest.mark.django_db
def test_the_insights_page_shows_the_notice(expiring, staff):
    page = staff.get("/admin/notifications/notificationinsights/").content.decode()
    assert 'id="insights-version-notice"' in page and "v21.0 stops working" in page
