"""Write the Postman collection and environment in this folder from the definitions below.

The JSON files are what users import; this script is where they are edited. Run it after a change
(`python docs/postman/build.py`); a test fails while the committed JSON and this script disagree.

The collection walks the demo data that `make run` seeds: each role logs in, a client files a
ticket, it goes through every transition, each common error is met, and an admin reads the
notification log. Requests run in order and hand ids and tokens on through environment variables.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLLECTION_FILE = HERE / "incident.postman_collection.json"
ENVIRONMENT_FILE = HERE / "local.postman_environment.json"

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

# Demo accounts seeded by `python manage.py seed_demo` (DEBUG only).
ACCOUNTS = {
    "admin": ("admin", "admin-demo-pass"),
    "developer": ("developer", "developer-demo-pass"),
    "developer2": ("developer2", "developer-demo-pass"),
    "client": ("client", "client-demo-pass"),
    "client2": ("client2", "client-demo-pass"),
}


# --- Building blocks -------------------------------------------------------------------------------

def expect_status(code: int) -> str:
    return (
        f'pm.test("answers {code}", function () {{\n'
        f"    pm.response.to.have.status({code});\n"
        "});"
    )


def request(
    name: str,
    method: str,
    path: str,
    *,
    token: str | None,
    body: dict | None = None,
    raw_body: str | None = None,
    tests: list[str],
    description: str = "",
    headers: dict | None = None,
    content_type: str = "application/json",
    prerequest: list[str] | None = None,
) -> dict:
    """One request with its test script. `token` names the role whose access token is sent."""
    extra = headers or {}
    headers = [{"key": "Accept", "value": "application/json"}]
    headers += [{"key": key, "value": value} for key, value in extra.items()]
    item: dict = {"name": name, "request": {"method": method, "header": headers}}
    if token:
        item["request"]["auth"] = {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{" + token + "Access}}", "type": "string"}],
        }
    else:
        item["request"]["auth"] = {"type": "noauth"}
    if body is not None or raw_body is not None:
        headers.append({"key": "Content-Type", "value": content_type})
        raw = raw_body if raw_body is not None else json.dumps(body, indent=2, ensure_ascii=False)
        item["request"]["body"] = {"mode": "raw", "raw": raw}
    path_part, _, query = path.partition("?")
    url: dict = {
        "raw": "{{baseUrl}}" + path,
        "host": ["{{baseUrl}}"],
        "path": [segment for segment in path_part.split("/") if segment],
    }
    if query:
        url["query"] = [
            {"key": key, "value": value}
            for key, _, value in (pair.partition("=") for pair in query.split("&"))
        ]
    if path_part.endswith("/"):
        url["path"].append("")  # keeps the trailing slash Django's URLs need
    item["request"]["url"] = url
    if description:
        item["request"]["description"] = description
    item["event"] = [{"listen": "test", "script": {"type": "text/javascript", "exec": _lines(tests)}}]
    if prerequest:
        item["event"].append({"listen": "prerequest",
                                 "script": {"type": "text/javascript", "exec": _lines(prerequest)}})
    return item


def _lines(snippets: list[str]) -> list[str]:
    return "\n".join(snippets).split("\n")


def folder(name: str, description: str, items: list[dict]) -> dict:
    return {"name": name, "description": description, "item": items}


def ticket_action(name: str, action: str, token: str, to_status: str, body: dict | None = None,
                  ticket: str = "ticketId", event: str = "", raw_body: str | None = None) -> dict:
    checks = [
        expect_status(200),
        f'pm.test("the ticket is now {to_status}", function () {{\n'
        "    const ticket = pm.response.json();\n"
        f'    pm.expect(ticket.id).to.eql(Number(pm.environment.get("{ticket}")));\n'
        f'    pm.expect(ticket.status).to.eql("{to_status}");\n'
        "});",
    ]
    if event:
        checks.append(
            f'pm.test("the history ends with {event}", function () {{\n'
            "    const events = pm.response.json().events;\n"
            f'    pm.expect(events[events.length - 1].event).to.eql("{event}");\n'
            f'    pm.expect(events[events.length - 1].to_status).to.eql("{to_status}");\n'
            "});"
        )
    return request(name, "POST", f"/api/tickets/{{{{{ticket}}}}}/{action}/", token=token, body=body,
                   raw_body=raw_body, tests=checks)


# --- The collection --------------------------------------------------------------------------------

def log_in(role: str) -> dict:
    return request(
        f"Log in as {role}",
        "POST",
        "/api/auth/token/",
        token=None,
        body={"username": "{{" + role + "Username}}", "password": "{{" + role + "Password}}"},
        tests=[
            expect_status(200),
            'pm.test("gives an access and a refresh token", function () {\n'
            "    const body = pm.response.json();\n"
            '    pm.expect(body.access).to.be.a("string").and.not.empty;\n'
            '    pm.expect(body.refresh).to.be.a("string").and.not.empty;\n'
            f'    pm.environment.set("{role}Access", body.access);\n'
            f'    pm.environment.set("{role}Refresh", body.refresh);\n'
            "});",
        ],
    )


def collection() -> dict:
    ticket_body = {
        "title": "Login page not working",
        "description": "Users cannot login to the portal since this morning.",
        "priority": "HIGH",
        "category": "BUG",
        "project_name": "Web Portal",
    }
    auth = folder("1. Log in", "Every demo role logs in; the tokens are kept in the environment.", [
        request(
            "Health check", "GET", "/healthz", token=None,
            tests=[expect_status(200),
                   'pm.test("the database is reachable", function () {\n'
                   '    pm.expect(pm.response.json().database).to.eql("ok");\n'
                   "});"],
        ),
        *(log_in(role) for role in ACCOUNTS),
        request(
            "Who am I (client)", "GET", "/api/auth/me/", token="client",
            tests=[expect_status(200),
                   'pm.test("the client is a CLIENT with a WhatsApp number", function () {\n'
                   "    const me = pm.response.json();\n"
                   '    pm.expect(me.username).to.eql(pm.environment.get("clientUsername"));\n'
                   '    pm.expect(me.role).to.eql("CLIENT");\n'
                   '    pm.expect(me.whatsapp_number).to.match(/^\\+[1-9][0-9]{7,14}$/);\n'
                   "});"],
        ),
        request(
            "Find the developers (admin)", "GET", "/api/users/?role=DEVELOPER", token="admin",
            tests=[expect_status(200),
                   'pm.test("lists the demo developer and keeps their id", function () {\n'
                   "    const users = pm.response.json().results;\n"
                   '    users.forEach(u => pm.expect(u.role).to.eql("DEVELOPER"));\n'
                   '    const dev = users.find(u => u.username === pm.environment.get("developerUsername"));\n'
                   "    pm.expect(dev, \"the demo developer\").to.be.an(\"object\");\n"
                   '    pm.environment.set("developerId", dev.id);\n'
                   "});"],
        ),
        request(
            "Refresh the admin's access token", "POST", "/api/auth/token/refresh/", token=None,
            body={"refresh": "{{adminRefresh}}"},
            tests=[expect_status(200),
                   'pm.test("gives a new access token", function () {\n'
                   "    const body = pm.response.json();\n"
                   '    pm.expect(body.access).to.be.a("string").and.not.empty;\n'
                   '    pm.environment.set("adminAccess", body.access);\n'
                   '    if (body.refresh) { pm.environment.set("adminRefresh", body.refresh); }\n'
                   "});"],
        ),
    ])

    lifecycle = folder(
        "2. A ticket's whole life",
        "NEW → OPENED → ASSIGNED → IN_PROGRESS → FINISHED → CLOSED, each step by the role allowed"
        " to take it. Every step sends WhatsApp messages (printed by the server in console mode).",
        [
            request(
                "Client files a ticket", "POST", "/api/tickets/", token="client", body=ticket_body,
                tests=[expect_status(201),
                       'pm.test("the ticket is NEW, filed by the client", function () {\n'
                       "    const ticket = pm.response.json();\n"
                       '    pm.expect(ticket.status).to.eql("NEW");\n'
                       '    pm.expect(ticket.priority).to.eql("HIGH");\n'
                       '    pm.expect(ticket.client.username).to.eql(pm.environment.get("clientUsername"));\n'
                       "    pm.expect(ticket.assigned_developer).to.eql(null);\n"
                       '    pm.expect(ticket.events[0].event).to.eql("TICKET_CREATED");\n'
                       '    pm.environment.set("ticketId", ticket.id);\n'
                       "});"],
            ),
            request(
                "Admin sees what may be done", "GET", "/api/tickets/{{ticketId}}/", token="admin",
                tests=[expect_status(200),
                       'pm.test("an admin may open or reject a NEW ticket", function () {\n'
                       "    const actions = pm.response.json().allowed_actions;\n"
                       '    pm.expect(actions).to.include.members(["open", "reject"]);\n'
                       '    pm.expect(actions).to.not.include("close");\n'
                       "});"],
            ),
            ticket_action("Admin opens it", "open", "admin", "OPENED", event="TICKET_OPENED"),
            ticket_action("Admin assigns the developer", "assign", "admin", "ASSIGNED",
                          # A number, not a string: the id goes in unquoted.
                          raw_body='{"developer": {{developerId}}}', event="DEVELOPER_ASSIGNED"),
            ticket_action("Developer starts work", "start", "developer", "IN_PROGRESS",
                          event="WORK_STARTED"),
            request(
                "Client comments", "POST", "/api/tickets/{{ticketId}}/comments/", token="client",
                body={"body": "It also happens on the mobile site."},
                tests=[expect_status(201),
                       'pm.test("the comment is the client\'s, from the API", function () {\n'
                       "    const comment = pm.response.json();\n"
                       '    pm.expect(comment.author.username).to.eql("client");\n'
                       '    pm.expect(comment.body).to.eql("It also happens on the mobile site.");\n'
                       '    pm.expect(comment.source).to.eql("API");\n'
                       "    pm.expect(comment.internal).to.eql(false);\n"
                       "});"],
            ),
            request(
                "Admin adds an internal note", "POST", "/api/tickets/{{ticketId}}/comments/",
                token="admin", body={"body": "Same cause as last month's outage.", "internal": True},
                tests=[expect_status(201),
                       'pm.test("it is internal", function () {\n'
                       "    pm.expect(pm.response.json().internal).to.eql(true);\n"
                       "});"],
            ),
            request(
                "Client reads the comments", "GET", "/api/tickets/{{ticketId}}/comments/",
                token="client",
                tests=[expect_status(200),
                       'pm.test("the client never sees the internal note", function () {\n'
                       "    pm.expect(pm.response.json().map(c => c.body)).to.eql(\n"
                       '        ["It also happens on the mobile site."]);\n'
                       "});"],
            ),
            request(
                "Developer reads the comments", "GET", "/api/tickets/{{ticketId}}/comments/",
                token="developer",
                tests=[expect_status(200),
                       'pm.test("staff see both", function () {\n'
                       "    pm.expect(pm.response.json().length).to.eql(2);\n"
                       "});"],
            ),
            ticket_action("Developer finishes", "finish", "developer", "FINISHED",
                          body={"resolution": "Fixed the session cookie domain."},
                          event="WORK_FINISHED"),
            ticket_action("Client: not fixed", "reopen", "client", "IN_PROGRESS",
                          body={"reason": "Still logged out on the mobile site."},
                          event="TICKET_REOPENED"),
            ticket_action("Developer finishes again", "finish", "developer", "FINISHED",
                          body={"resolution": "Fixed the session cookie domain."},
                          event="WORK_FINISHED"),
            ticket_action("Client closes it", "close", "client", "CLOSED", event="TICKET_CLOSED"),
            request(
                "Client reads the history", "GET", "/api/tickets/{{ticketId}}/", token="client",
                tests=[expect_status(200),
                       'pm.test("every step is in the history, in order", function () {\n'
                       "    const ticket = pm.response.json();\n"
                       '    pm.expect(ticket.events.map(e => e.event)).to.eql([\n'
                       '        "TICKET_CREATED", "TICKET_OPENED", "DEVELOPER_ASSIGNED",\n'
                       '        "WORK_STARTED", "COMMENT_ADDED", "WORK_FINISHED", "TICKET_REOPENED",\n'
                       '        "WORK_FINISHED", "TICKET_CLOSED"]);\n'
                       "    pm.expect(ticket.can_comment).to.eql(false);\n"
                       '    pm.expect(ticket.resolution).to.eql("Fixed the session cookie domain.");\n'
                       "    pm.expect(ticket.allowed_actions).to.eql([]);\n"
                       "});"],
            ),
            request(
                "Client rates the fix", "POST", "/api/tickets/{{ticketId}}/rating/",
                token="client", body={"score": 3, "comment": "Fixed within the hour, thanks."},
                description="Once a ticket is CLOSED its client may rate the fix: score 1 (😞), "
                            "2 (😐) or 3 (😀), and a comment. Rating again replaces the score.",
                tests=[expect_status(200),
                       'pm.test("the rating is on the ticket", function () {\n'
                       "    const rating = pm.response.json().satisfaction;\n"
                       "    pm.expect(rating.score).to.eql(3);\n"
                       '    pm.expect(rating.label).to.eql("😀");\n'
                       '    pm.expect(rating.comment).to.eql("Fixed within the hour, thanks.");\n'
                       "});"],
            ),
            request(
                "Client files a second ticket", "POST", "/api/tickets/", token="client",
                body={**ticket_body, "title": "Export button does nothing", "priority": "LOW"},
                tests=[expect_status(201),
                       'pm.test("it is NEW", function () {\n'
                       '    pm.expect(pm.response.json().status).to.eql("NEW");\n'
                       '    pm.environment.set("secondTicketId", pm.response.json().id);\n'
                       "});"],
            ),
            ticket_action("Admin rejects it", "reject", "admin", "REJECTED",
                          body={"reason": "Works as designed: export needs a date range."},
                          ticket="secondTicketId", event="TICKET_REJECTED"),
            request(
                "Client files a ticket with an Idempotency-Key", "POST", "/api/tickets/",
                token="client", body={**ticket_body, "title": "Printer offline on floor 2"},
                headers={"Idempotency-Key": "{{idempotencyKey}}"},
                prerequest=['pm.environment.set("idempotencyKey", pm.variables.replaceIn("{{$guid}}"));'],
                description="A client that may retry (a timeout, a double click) sends a key of its"
                " own choosing; the same key within 24 hours returns the same ticket.",
                tests=[expect_status(201),
                       'pm.test("a new ticket", function () {\n'
                       '    pm.expect(pm.response.headers.get("Idempotent-Replayed")).to.eql("false");\n'
                       '    pm.environment.set("keyedTicketId", pm.response.json().id);\n'
                       "});"],
            ),
            request(
                "The same request again files nothing new", "POST", "/api/tickets/",
                token="client", body={**ticket_body, "title": "Printer offline on floor 2"},
                headers={"Idempotency-Key": "{{idempotencyKey}}"},
                tests=[expect_status(201),
                       'pm.test("the same ticket, marked as a replay", function () {\n'
                       '    pm.expect(pm.response.json().id).to.eql(Number(pm.environment.get("keyedTicketId")));\n'
                       '    pm.expect(pm.response.headers.get("Idempotent-Replayed")).to.eql("true");\n'
                       "});"],
            ),
        ],
    )

    errors = folder(
        "3. Errors you will meet",
        "Each answer is JSON that says what is wrong and what is allowed.",
        [
            request(
                "400: a priority that does not exist", "POST", "/api/tickets/", token="client",
                body={**ticket_body, "priority": "URGENT"},
                tests=[expect_status(400),
                       'pm.test("names the field and the allowed values", function () {\n'
                       "    const body = pm.response.json();\n"
                       '    pm.expect(body).to.have.property("priority");\n'
                       '    ["LOW", "MEDIUM", "HIGH", "CRITICAL"].forEach(\n'
                       "        p => pm.expect(body.priority.join(\" \")).to.include(p));\n"
                       "});"],
            ),
            request(
                "400: a missing title", "POST", "/api/tickets/", token="client",
                body={k: v for k, v in ticket_body.items() if k != "title"},
                tests=[expect_status(400),
                       'pm.test("says the title is required", function () {\n'
                       '    pm.expect(pm.response.json().title[0]).to.include("required");\n'
                       "});"],
            ),
            request(
                "400: malformed JSON", "POST", "/api/tickets/", token="client",
                raw_body='{"title": "unfinished',
                tests=[expect_status(400),
                       'pm.test("says the JSON is malformed", function () {\n'
                       '    pm.expect(pm.response.json().detail).to.be.a("string").and.not.empty;\n'
                       "});"],
            ),
            request(
                "400: reject without a reason", "POST", "/api/tickets/", token="client",
                body={**ticket_body, "title": "Third ticket, to be rejected without a reason"},
                tests=[expect_status(201),
                       'pm.environment.set("thirdTicketId", pm.response.json().id);'],
                description="Files a ticket for the next request.",
            ),
            request(
                "400: reject needs a reason", "POST", "/api/tickets/{{thirdTicketId}}/reject/",
                token="admin", body={},
                tests=[expect_status(400),
                       'pm.test("names the reason field", function () {\n'
                       '    pm.expect(pm.response.json()).to.have.property("reason");\n'
                       "});"],
            ),
            request(
                "409: closing a ticket that is not finished", "POST",
                "/api/tickets/{{thirdTicketId}}/close/", token="admin",
                tests=[expect_status(409),
                       'pm.test("says why, the status and what is allowed", function () {\n'
                       "    const body = pm.response.json();\n"
                       '    pm.expect(body.code).to.eql("transition_not_allowed");\n'
                       '    pm.expect(body.status).to.eql("NEW");\n'
                       '    pm.expect(body.allowed_actions).to.include.members(["open", "reject"]);\n'
                       '    pm.expect(body.detail).to.be.a("string").and.not.empty;\n'
                       "});"],
            ),
            request(
                "409: commenting on a closed ticket", "POST", "/api/tickets/{{ticketId}}/comments/",
                token="client", body={"body": "One more thing"},
                tests=[expect_status(409),
                       'pm.test("says the ticket takes no more comments", function () {\n'
                       '    pm.expect(pm.response.json().code).to.eql("comment_not_allowed");\n'
                       "});"],
            ),
            request(
                "403: a client may not write an internal note", "POST",
                "/api/tickets/{{thirdTicketId}}/comments/", token="client",
                body={"body": "Secret", "internal": True},
                tests=[expect_status(403),
                       'pm.test("says only staff may", function () {\n'
                       '    pm.expect(pm.response.json().detail).to.include("Only an admin");\n'
                       "});"],
            ),
            request(
                "400: a comment without a body", "POST", "/api/tickets/{{thirdTicketId}}/comments/",
                token="client", body={},
                tests=[expect_status(400),
                       'pm.test("names the field", function () {\n'
                       '    pm.expect(pm.response.json()).to.have.property("body");\n'
                       "});"],
            ),
            request(
                "409: starting a closed ticket", "POST", "/api/tickets/{{ticketId}}/start/",
                token="developer",
                tests=[expect_status(409),
                       'pm.test("the ticket is CLOSED", function () {\n'
                       '    pm.expect(pm.response.json().status).to.eql("CLOSED");\n'
                       "});"],
            ),
            request(
                "404: another client's ticket", "GET", "/api/tickets/{{ticketId}}/", token="client2",
                tests=[expect_status(404),
                       'pm.test("does not reveal the ticket", function () {\n'
                       "    const body = pm.response.json();\n"
                       '    pm.expect(body.detail).to.be.a("string");\n'
                       '    pm.expect(body).to.not.have.property("title");\n'
                       "});"],
            ),
            request(
                "404: another developer's ticket", "POST", "/api/tickets/{{ticketId}}/start/",
                token="developer2",
                tests=[expect_status(404)],
            ),
            request(
                "403: a client may not open a ticket", "POST", "/api/tickets/{{thirdTicketId}}/open/",
                token="client",
                tests=[expect_status(403),
                       'pm.test("says whose action it is", function () {\n'
                       '    pm.expect(pm.response.json().code).to.eql("action_not_permitted");\n'
                       "});"],
            ),
            request(
                "401: no token", "GET", "/api/tickets/", token=None,
                tests=[expect_status(401),
                       'pm.test("asks for credentials", function () {\n'
                       '    pm.expect(pm.response.json().detail).to.be.a("string").and.not.empty;\n'
                       '    pm.expect(pm.response.json().code).to.eql("not_authenticated");\n'
                       "});"],
            ),
            request(
                "401: wrong password", "POST", "/api/auth/token/", token=None,
                body={"username": "{{clientUsername}}", "password": "not-the-password"},
                tests=[expect_status(401),
                       'pm.test("says no account matches", function () {\n'
                       '    pm.expect(pm.response.json().code).to.eql("no_active_account");\n'
                       "});"],
            ),
            request(
                "415: a body without Content-Type: application/json", "POST", "/api/tickets/",
                token="client", body=ticket_body, content_type="application/x-www-form-urlencoded",
                tests=[expect_status(415),
                       'pm.test("names the type the API reads", function () {\n'
                       "    const body = pm.response.json();\n"
                       '    pm.expect(body.code).to.eql("unsupported_media_type");\n'
                       '    pm.expect(body.detail).to.include("Content-Type: application/json");\n'
                       "});"],
            ),
            request(
                "404: a URL with a typo", "GET", "/api/tickts/", token="client",
                tests=[expect_status(404),
                       'pm.test("is JSON naming the path", function () {\n'
                       "    const body = pm.response.json();\n"
                       '    pm.expect(body.code).to.eql("not_found");\n'
                       '    pm.expect(body.detail).to.include("/api/tickts/");\n'
                       "});"],
            ),
            request(
                "405: tickets are never deleted", "DELETE", "/api/tickets/{{ticketId}}/",
                token="admin",
                tests=[expect_status(405)],
            ),
        ],
    )

    logs = folder(
        "4. Notification logs",
        "Admins review every WhatsApp message: one row per recipient and attempt.",
        [
            request(
                "Admin reads the first ticket's notifications", "GET",
                "/api/notifications/logs/?ticket={{ticketId}}", token="admin",
                tests=[expect_status(200),
                       'pm.test("one row per recipient, each with its outcome", function () {\n'
                       "    const body = pm.response.json();\n"
                       "    pm.expect(body.count).to.be.above(5);\n"
                       "    body.results.forEach(function (row) {\n"
                       '        pm.expect(row.ticket).to.eql(Number(pm.environment.get("ticketId")));\n'
                       '        pm.expect(row.channel).to.be.oneOf(["WHATSAPP", "EMAIL"]);\n'
                       "        // A walk this quick tells the client more than three things in a minute:\n"
                       "        // the later ones wait to go out together in a digest (digest_at).\n"
                       '        if (row.status === "QUEUED") {\n'
                       '            pm.expect(row.digest_at).to.be.a("string");\n'
                       "        } else {\n"
                       '            pm.expect(row.status).to.be.oneOf(["SENT", "FAILED", "SKIPPED"]);\n'
                       "        }\n"
                       '        pm.expect(row.recipient.username).to.be.a("string");\n'
                       '        pm.expect(row.message).to.be.a("string").and.not.empty;\n'
                       "    });\n"
                       "});",
                       'pm.test("the admin heard of the new ticket, the client of each step", function () {\n'
                       "    const rows = pm.response.json().results;\n"
                       "    const told = (event, username) => rows.filter(\n"
                       "        r => r.event === event && r.recipient.username === username);\n"
                       '    const admin = pm.environment.get("adminUsername");\n'
                       '    const client = pm.environment.get("clientUsername");\n'
                       '    pm.expect(told("TICKET_CREATED", admin)[0].message).to.include("Login page not working");\n'
                       '    ["TICKET_OPENED", "DEVELOPER_ASSIGNED", "WORK_STARTED", "WORK_FINISHED"].forEach(\n'
                       "        event => pm.expect(told(event, client).length, event).to.be.at.least(1));\n"
                       "});"],
            ),
            request(
                "Admin lists what did not go out", "GET",
                "/api/notifications/logs/?channel=WHATSAPP&status=FAILED", token="admin",
                tests=[expect_status(200),
                       'pm.test("only failed WhatsApp rows, each with its error", function () {\n'
                       "    pm.response.json().results.forEach(function (row) {\n"
                       '        pm.expect(row.channel).to.eql("WHATSAPP");\n'
                       '        pm.expect(row.status).to.eql("FAILED");\n'
                       '        pm.expect(row.error_message).to.be.a("string").and.not.empty;\n'
                       "    });\n"
                       "});"],
            ),
            request(
                "400: a status the log does not have", "GET",
                "/api/notifications/logs/?status=LOST", token="admin",
                tests=[expect_status(400),
                       'pm.test("lists the allowed statuses", function () {\n'
                       '    pm.expect(JSON.stringify(pm.response.json())).to.include("SKIPPED");\n'
                       "});"],
            ),
            request(
                "403: clients may not read the log", "GET", "/api/notifications/logs/",
                token="client",
                tests=[expect_status(403)],
            ),
        ],
    )

    logout = folder(
        "5. Log out",
        "Logging out revokes the refresh token; so does every refresh, which hands out a new one.",
        [
            request(
                "Client logs out", "POST", "/api/auth/logout/", token=None,
                body={"refresh": "{{clientRefresh}}"},
                tests=[expect_status(204)],
            ),
            request(
                "401: a revoked refresh token", "POST", "/api/auth/token/refresh/", token=None,
                body={"refresh": "{{clientRefresh}}"},
                tests=[expect_status(401),
                       'pm.test("says the token is blacklisted", function () {\n'
                       '    pm.expect(pm.response.json().detail.toLowerCase()).to.include("blacklisted");\n'
                       "});"],
            ),
        ],
    )

    return {
        "info": {
            "name": "Incident: tickets with WhatsApp notifications",
            "description": (
                "Import this collection and the environment `local.postman_environment.json`, start"
                " the server with `make run`, then run the collection (Run collection, in order)."
                " Every request checks its status and body in its Tests tab."
            ),
            "schema": SCHEMA,
        },
        "item": [auth, lifecycle, errors, logs, logout],
    }


def environment() -> dict:
    values = [{"key": "baseUrl", "value": "http://127.0.0.1:8000", "type": "default",
               "enabled": True}]
    for role, (username, password) in ACCOUNTS.items():
        values.append({"key": f"{role}Username", "value": username, "type": "default",
                       "enabled": True})
        values.append({"key": f"{role}Password", "value": password, "type": "secret",
                       "enabled": True})
    for name in ("developerId", "ticketId", "secondTicketId", "thirdTicketId", "keyedTicketId",
                 "idempotencyKey",
                 *(f"{role}{kind}" for role in ACCOUNTS for kind in ("Access", "Refresh"))):
        secret = name.endswith(("Access", "Refresh"))
        values.append({"key": name, "value": "", "type": "secret" if secret else "default",
                       "enabled": True})
    return {"name": "Incident local (make run)", "values": values}


def render(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    COLLECTION_FILE.write_text(render(collection()), encoding="utf-8")
    ENVIRONMENT_FILE.write_text(render(environment()), encoding="utf-8")
    print(f"wrote {COLLECTION_FILE.name} and {ENVIRONMENT_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
