"""The Postman collection users import: in step with its source, and every request checked."""
import importlib.util
import json
from pathlib import Path

import pytest

POSTMAN = Path(__file__).resolve().parents[2] / "docs" / "postman"


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("postman_build", POSTMAN / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requests_in(items):
    for item in items:
        if "item" in item:
            yield from requests_in(item["item"])
        else:
            yield item


def test_committed_json_is_what_build_writes(build):
    # Edits go into build.py; a hand edit of the JSON would be lost at the next build.
    assert (POSTMAN / "incident.postman_collection.json").read_text(encoding="utf-8") == build.render(
        build.collection()
    ), "run python docs/postman/build.py"
    assert (POSTMAN / "local.postman_environment.json").read_text(encoding="utf-8") == build.render(
        build.environment()
    ), "run python docs/postman/build.py"


def test_every_request_checks_its_status(build):
    items = list(requests_in(build.collection()["item"]))
    assert len(items) >= 30
    for item in items:
        script = "\n".join(item["event"][0]["script"]["exec"])
        assert "pm.response.to.have.status(" in script, item["name"]


def test_collection_takes_a_ticket_through_every_action(build):
    paths = {item["request"]["url"]["raw"] for item in requests_in(build.collection()["item"])}
    for action in ("open", "assign", "start", "finish", "close", "reject"):
        assert any(path.endswith(f"/{action}/") for path in paths), action


@pytest.mark.parametrize("code", [400, 401, 403, 404, 405, 409])
def test_collection_meets_each_error(build, code):
    names = [item["name"] for item in requests_in(build.collection()["item"])]
    assert any(name.startswith(f"{code}:") for name in names)


def test_environment_holds_demo_accounts_only(build):
    values = {v["key"]: v["value"] for v in json.loads(
        (POSTMAN / "local.postman_environment.json").read_text(encoding="utf-8"))["values"]}
    assert values["baseUrl"] == "http://127.0.0.1:8000"
    # Tokens are filled in by the run, never shipped.
    assert all(values[key] == "" for key in values if key.endswith(("Access", "Refresh")))
    from accounts.management.commands.seed_demo import DEMO_USERS
    seeded = {username: password for username, password, *_ in DEMO_USERS}
    for role, (username, password) in build.ACCOUNTS.items():
        assert seeded[username] == password, role
