"""What a newcomer meets first: JSON errors under /api/ (DEBUG on or off), the .env README tells
them to make, `make run`'s console, and the API docs' own text."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.tests.factories import make_client

ROOT = Path(__file__).resolve().parents[2]
TICKET = {"title": "Login page not working", "description": "Users cannot login.",
          "project_name": "Web Portal"}

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[True, False], ids=["DEBUG on", "DEBUG off"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def amal(api):
    return api(make_client(username="amal"))


def test_a_slash_less_post_files_the_ticket(debug, amal):
    response = amal.post("/api/tickets", TICKET, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["title"] == TICKET["title"]
    listed = amal.get("/api/tickets")
    assert listed.status_code == 200 and listed.json()["count"] == 1


def test_slash_less_action_and_auth_paths_are_served(debug, amal, client):
    ticket_id = amal.post("/api/tickets/", TICKET, format="json").json()["id"]
    assert amal.get(f"/api/tickets/{ticket_id}").status_code == 200
    assert amal.get("/api/auth/me").json()["username"] == "amal"
    login = client.post("/api/auth/token", {"username": "amal", "password": "pass-for-tests"},
                        content_type="application/json")
    assert login.status_code == 200 and "access" in login.json()


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_an_unknown_api_path_is_a_short_json_404(debug, amal, method):
    response = getattr(amal, method)("/api/tickts/", {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "No endpoint at /api/tickts/. The endpoints are listed at /api/docs/.",
        "code": "not_found",
    }
    assert amal.get("/api/nothing/here").status_code == 404


def test_outside_api_django_pages_stay_as_they_are(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]


def test_a_form_encoded_body_is_a_415_naming_json(amal):
    # curl -d '{"title": ...}' without -H 'Content-Type: application/json'
    response = amal.post("/api/tickets/", '{"title": "x"}',
                         content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    body = response.json()
    assert body["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in body["detail"]
    assert "application/x-www-form-urlencoded" in body["detail"]


def test_an_action_without_a_body_needs_no_content_type(api):
    from accounts.tests.factories import make_admin
    from tickets.services import ticket_create

    client = make_client(username="amal")
    ticket = ticket_create(client=client, **TICKET)
    response = api(make_admin()).post(f"/api/tickets/{ticket.pk}/open/")
    assert response.status_code == 200
    assert response.json()["status"] == "OPENED"


def test_swagger_shows_the_bearer_placeholder(client):
    from django.conf import settings

    description = settings.SPECTACULAR_SETTINGS["DESCRIPTION"]
    # Markdown renders a bare <access> as an HTML tag, i.e. nothing: it must sit in a code span.
    assert "`Authorization: Bearer <access>`" in description
    assert description.count("<") == description.count("`Authorization: Bearer <")


def test_django_errors_are_logged_once():
    """Count the handlers a django.request record reaches, as `make run` configures logging
    (in a process of its own: pytest adds capture handlers to this one)."""
    probe = (
        "import logging, django; django.setup(); logger = logging.getLogger('django.request'); n = 0\n"
        "while logger:\n"
        "    n += len(logger.handlers); logger = logger.parent if logger.propagate else None\n"
        "print(n)"
    )
    env = {**os.environ, "DEBUG": "True", "DJANGO_SETTINGS_MODULE": "Incident.settings"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def _dotenv_values(path: Path) -> dict:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_make_run_with_the_env_example_serves_plain_http(tmp_path):
    """README: copy .env.example to .env, then `make run` (which sets DEBUG=True)."""
    shutil.copytree(ROOT / "Incident", tmp_path / "Incident")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    env = {k: v for k, v in os.environ.items() if k not in _dotenv_values(ROOT / ".env.example")}
    env.update(DEBUG="True", PYTHONPATH=str(tmp_path))
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    probe = ("import Incident.settings as s; "
             "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "0", "False"]


def test_make_run_prints_the_setup_warnings_once(tmp_path):
    """migrate and seed_demo skip the checks; runserver prints them (once) as it starts."""
    dry = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env={**os.environ, "DEBUG": "True"})
    assert dry.returncode == 0, dry.stderr
    steps = [line for line in dry.stdout.splitlines() if "manage.py" in line]
    assert [s.split("manage.py")[1].split()[0] for s in steps] == ["migrate", "seed_demo",
                                                                   "runserver"]
    env = {**os.environ, "DEBUG": "True", "WHATSAPP_ACCESS_TOKEN": "",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    output = ""
    for step in steps[:-1]:
        args = step.split("manage.py", 1)[1].split()
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        output += done.stdout + done.stderr
    assert "notifications.W001" not in output
    assert "every message stays SENT" not in output


def test_the_front_page_says_what_this_is_and_links_its_doors(client):
    page = client.get("/", secure=True)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    for url in ("/admin/", "/api/docs/", "/healthz"):
        assert f'href="{url}"' in page.content.decode()
    answer = client.get("/", HTTP_ACCEPT="application/json", secure=True)
    assert answer["Content-Type"] == "application/json"
    links = answer.json()["links"]
    assert links == {"admin": "https://testserver/admin/", "api_docs": "https://testserver/api/docs/",
                     "health": "https://testserver/healthz"}
    for url in links.values():  # every link leads somewhere
        assert client.get(url.removeprefix("https://testserver"), secure=True).status_code in (
            200, 302)
