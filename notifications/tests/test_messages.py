"""The message texts: the setup guide's two formats exactly, the others' content, and the cut."""
import pytest

from notifications.messages import (
    CUT_MARK, MAX_LENGTH, NOTICES, TicketFacts, length, render,
)
from tickets.models import TicketEventType as E
from tickets.transitions import Party

FACTS = TicketFacts(
    title="Login page not working",
    project="Web Portal",
    priority="HIGH",
    category="BUG",
    status="Opened",
    description="Users cannot login to the portal...",
    client_name="John Doe",
    developer_name="Dev Eloper",
    resolution="Fixed the session cookie domain.",
    rejection_reason="Duplicate of #12.",
)

# Copied from the setup guide, "Message Format Examples".
GUIDE_ADMIN_NEW_TICKET = """🎫 *New Ticket Created*

*Client:* John Doe
*Title:* Login page not working
*Project:* Web Portal
*Priority:* HIGH
*Category:* BUG

*Description:*
Users cannot login to the portal...

Please review and assign this ticket.

_Incident Management System_"""

GUIDE_CLIENT_OPENED = """✅ *Your Ticket Has Been Opened*

Hello John Doe,

Your ticket has been acknowledged.

*Ticket:* Login page not working
*Project:* Web Portal
*Status:* Opened

We will assign a developer shortly.

_Support Team_"""


def test_admin_new_ticket_is_the_guide_format_exactly():
    assert render(E.TICKET_CREATED, Party.ADMIN, FACTS) == GUIDE_ADMIN_NEW_TICKET


def test_client_ticket_opened_is_the_guide_format_exactly():
    assert render(E.TICKET_OPENED, Party.OWNER, FACTS) == GUIDE_CLIENT_OPENED


@pytest.mark.parametrize("key", [(event, n.party) for event, told in NOTICES.items() for n in told],
                         ids=lambda k: f"{k[0]}-{k[1].value}")
def test_every_text_has_the_house_style(key):
    text = render(*key, FACTS)
    first_line = text.splitlines()[0]
    assert first_line.count("*") == 2 and not first_line[0].isalnum()  # emoji, then *bold title*
    assert "Login page not working" in text
    assert text.endswith(("_Incident Management System_", "_Support Team_"))
    footer = text.splitlines()[-1]
    expected = "_Support Team_" if key[1] == Party.OWNER else "_Incident Management System_"
    assert footer == expected


@pytest.mark.parametrize(
    "event, audience, must_say",
    [
        (E.DEVELOPER_ASSIGNED, Party.ASSIGNED_DEVELOPER, ["Hello Dev Eloper", "*Priority:* HIGH", "Users cannot login"]),
        (E.DEVELOPER_ASSIGNED, Party.OWNER, ["Hello John Doe", "*Developer:* Dev Eloper"]),
        (E.WORK_STARTED, Party.OWNER, ["Hello John Doe", "*Developer:* Dev Eloper"]),
        (E.WORK_FINISHED, Party.OWNER, ["*Resolution:*\nFixed the session cookie domain.", "close the ticket"]),
        (E.WORK_FINISHED, Party.ADMIN, ["*Resolution:*\nFixed the session cookie domain.", "*Client:* John Doe", "close this ticket"]),
        (E.TICKET_CLOSED, Party.OWNER, ["Hello John Doe", "How did we do?", "Tap a face"]),
        (E.TICKET_CLOSED, Party.ASSIGNED_DEVELOPER, ["Hello Dev Eloper", "*Client:* John Doe"]),
        (E.TICKET_REJECTED, Party.OWNER, ["*Reason:*\nDuplicate of #12.", "Hello John Doe"]),
    ],
)
def test_each_text_carries_what_its_reader_needs(event, audience, must_say):
    text = render(event, audience, FACTS)
    for fragment in must_say:
        assert fragment in text


def test_finish_without_resolution_leaves_the_block_out():
    facts = TicketFacts(**{**FACTS.__dict__, "resolution": ""})
    text = render(E.WORK_FINISHED, Party.OWNER, facts)
    assert "*Resolution:*" not in text
    assert "\n\n\n" not in text


def test_a_long_description_is_cut_first_and_marked():
    facts = TicketFacts(**{**FACTS.__dict__, "description": "x" * 10_000})
    text = render(E.TICKET_CREATED, Party.ADMIN, facts)
    assert length(text) <= MAX_LENGTH
    assert length(text) > MAX_LENGTH - 20  # cut to fit, not gutted
    assert CUT_MARK in text
    assert text.endswith("Please review and assign this ticket.\n\n_Incident Management System_")
    assert "*Title:* Login page not working" in text


def test_a_text_under_the_limit_is_untouched():
    facts = TicketFacts(**{**FACTS.__dict__, "description": "y" * 3000})
    assert CUT_MARK not in render(E.TICKET_CREATED, Party.ADMIN, facts)


def test_emoji_count_double_so_the_cut_is_safe_either_way():
    facts = TicketFacts(**{**FACTS.__dict__, "description": "🔥" * 3000})
    text = render(E.TICKET_CREATED, Party.ADMIN, facts)
    assert len(text.encode("utf-16-le")) // 2 <= MAX_LENGTH
    assert CUT_MARK in text and "\ud83d" not in text  # no emoji split in half


def test_long_reason_and_title_are_cut_when_there_is_no_description():
    facts = TicketFacts(**{**FACTS.__dict__, "rejection_reason": "r" * 5000, "title": "t" * 200})
    text = render(E.TICKET_REJECTED, Party.OWNER, facts)
    assert length(text) <= MAX_LENGTH
    assert "t" * 200 in text  # the title survived: the reason was cut instead
    assert text.endswith("_Support Team_")


def test_non_latin_text_renders_unchanged():
    facts = TicketFacts(**{**FACTS.__dict__, "title": "تعطل صفحة الدخول 🚨", "client_name": "أحمد علي"})
    text = render(E.TICKET_OPENED, Party.OWNER, facts)
    assert "Hello أحمد علي," in text and "*Ticket:* تعطل صفحة الدخول 🚨" in text


def test_the_manual_says_who_is_told_as_the_table_does():
    """The manual's "who is told" table (docs/whatsapp.md) is checked against NOTICES: every event, its parties in order."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "docs" / "whatsapp.md").read_text()
    rows = readme.split("| event | who is told |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    told = {line.split("|")[1].split()[0]: line.split("|")[2] for line in rows}
    words = {Party.ADMIN: "ADMIN", Party.OWNER: "client", Party.ASSIGNED_DEVELOPER: "developer",
             Party.PAGED: "paged"}
    assert set(told) == set(NOTICES)
    for event, notices in NOTICES.items():
        said = told[event].split("never")[0]  # "never the client" names whom it skips
        found = sorted((said.index(words[party]), party) for party in words if words[party] in said)
        assert [party for _, party in found] == [n.party for n in notices], event
