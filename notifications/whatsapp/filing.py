"""Filing a ticket by chat, and the words anyone may send: NEW, STATUS, HELP.

NEW (or the "File a ticket" button) starts a conversation that asks one thing at a time: the
project (a list of the person's recent projects, or typed), the title, the description
(screenshots welcome along the way), the priority and the category (lists), then shows a summary
with **File it** and **Cancel**. Filing goes through tickets.services.ticket_create with the API's
own validation, so the ticket, its history and its notifications are exactly those of
POST /api/tickets/. The conversation is a row (notifications.whatsapp.models.Conversation): a
restart loses nothing, and one left idle for IDLE is ended by the recovery pass, which says so.

A choice's payload names the conversation and the question it answers; it is only taken from the
person whose conversation it is, while that question is the one waiting. It needs no signature:
it can only choose among what that person could type.
"""
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from Incident.errors import ApplicationError
from notifications import services
from notifications.models import ReceivedMessage
from notifications.whatsapp import media
from notifications.whatsapp.answers import Answer
from notifications.whatsapp.models import OPEN_STEPS, Conversation, Step
from tickets import selectors
from tickets import services as tickets
from tickets.models import Category, Priority, Source, Ticket
from tickets.serializers import TicketInputSerializer
from tickets.transitions import NO_COMMENTS

IDLE = timedelta(minutes=30)
START = "new"  # the payload of "File a ticket"; choices are "new:<conversation>:<step>:<value>"
PROJECTS = 9  # recent projects offered (a list message holds ten rows)
FILES = 10  # files one ticket may gather while it is filed
SHOWN = 300  # characters of the description the summary repeats
LISTED = 10  # tickets STATUS lists
PASS = 100  # conversations one recovery pass ends

NEW_WORDS = {"NEW", "NEW TICKET", "FILE", "FILE A TICKET", "جديد", "تذكرة جديدة"}
STATUS_WORDS = {"STATUS", "حالة", "الحالة"}
HELP_WORDS = {"HELP", "?", "مساعدة"}
CANCEL_WORDS = {"CANCEL"}
COMMANDS = NEW_WORDS | STATUS_WORDS | HELP_WORDS
FILE_A_TICKET = [START, "File a ticket"]

EXPIRED = ("The ticket you were filing was dropped after 30 minutes without an answer; nothing "
           "was filed. Send NEW to start again.")
HELP_NEW = "• NEW: file a ticket, one question at a time\n"
HELP = ("What you can send here:\n{new}"
        "• STATUS: your open tickets and where they stand\n"
        "• a reply to one of our messages (swipe it, then write): a comment on its ticket; a "
        "photo, document, voice note or video sent that way is attached to it\n"
        "• STOP / START: WhatsApp notifications off / on\n"
        "• HELP: this message")


def is_choice(payload: str) -> bool:
    return payload == START or payload.startswith(START + ":")


def command(user: AbstractBaseUser, word: str) -> Answer:
    """NEW, STATUS or HELP (a word of COMMANDS, upper-cased)."""
    if word in NEW_WORDS:
        return start(user)
    if word in STATUS_WORDS:
        return _status(user)
    if may_file(user):
        return Answer(HELP.format(new=HELP_NEW), choices=[FILE_A_TICKET])
    return Answer(HELP.format(new=""))


def current(user: AbstractBaseUser) -> Conversation | None:
    """The person's open conversation, locked for this message (None when there is none)."""
    return Conversation.objects.select_for_update().filter(user=user, step__in=OPEN_STEPS).first()


def start(user: AbstractBaseUser) -> Answer:
    try:
        tickets.ensure_filing_allowed(user)
    except ApplicationError as exc:
        return Answer(f"Tickets cannot be filed from this account: {exc.detail}")
    conversation = current(user)
    if conversation is not None and not _idle(conversation):
        return _ask(conversation, "You are already filing a ticket. ")
    if conversation is not None:
        _end(conversation, Step.EXPIRED)
    conversation = Conversation.objects.create(
        user=user, step=Step.PROJECT, projects=_recent_projects(user),
        expires_at=timezone.now() + IDLE)
    return _ask(conversation, "Let's file a ticket (send CANCEL at any time to stop). ")


def text(conversation: Conversation, written: str) -> Answer:
    """What the person wrote while `conversation` waits for an answer."""
    if _idle(conversation):
        _end(conversation, Step.EXPIRED)
        return Answer(EXPIRED)
    if written.strip(" .!").upper() in CANCEL_WORDS:
        return _cancel(conversation)
    step = conversation.step
    if step in (Step.PROJECT, Step.TITLE, Step.DESCRIPTION):
        field = {Step.PROJECT: "project_name", Step.TITLE: "title",
                 Step.DESCRIPTION: "description"}[step]
        return _answer(conversation, field, written)
    if step in (Step.PRIORITY, Step.CATEGORY):
        return _choose(conversation, written)
    if written.strip(" .!").upper() in {"FILE IT", "FILE", "YES"}:
        return _file(conversation)
    return _ask(conversation, "Tap File it or Cancel (or send CANCEL). ")


def tap(user: AbstractBaseUser, payload: str) -> Answer:
    """A choice tapped: "File a ticket", or an answer of a conversation."""
    if payload == START:
        return start(user)
    try:
        _, pk, step, value = payload.split(":", 3)
        pk = int(pk)
    except ValueError:
        return Answer("That button is not one of ours any more, so nothing was done.")
    conversation = current(user)
    if conversation is None or conversation.pk != pk:
        return _over(user, pk)
    if _idle(conversation):
        _end(conversation, Step.EXPIRED)
        return Answer(EXPIRED)
    if step != conversation.step:
        return _ask(conversation, "That answers an earlier question. ")
    if value == "cancel":
        return _cancel(conversation)
    if step == Step.PROJECT:
        try:
            return _answer(conversation, "project_name", conversation.projects[int(value)])
        except (ValueError, IndexError):
            return _ask(conversation, "That project is not on the list. ")
    if step in (Step.PRIORITY, Step.CATEGORY):
        return _choose(conversation, value)
    return _file(conversation) if value == "file" else _ask(conversation)


def keep(conversation: Conversation, received: ReceivedMessage, message) -> Answer:
    """A file sent while filing: fetched once the ticket is filed (it has nowhere to go before)."""
    if _idle(conversation):
        _end(conversation, Step.EXPIRED)
        return Answer(EXPIRED + " The file was not kept.")
    label = media.LABELS[message.kind]
    if len(conversation.files) >= FILES:
        return Answer(f"A ticket takes {FILES} files while it is filed, so this {label} was not "
                      "kept; send it in reply to the ticket's messages once it is filed.")
    conversation.files.append({"received": received.pk, "file": media.described(message)})
    _touch(conversation, "files")
    return Answer(f"Got your {label}: it will be attached once the ticket is filed.")


def expire(now: datetime) -> int:
    """End the conversations idle past their time and tell their people (the recovery pass)."""
    ended = 0
    with transaction.atomic():
        idle = (Conversation.objects.select_for_update(skip_locked=True)
                .filter(step__in=OPEN_STEPS, expires_at__lte=now).select_related("user")[:PASS])
        for conversation in idle:
            _end(conversation, Step.EXPIRED)
            services.schedule_reply(user=conversation.user, text=EXPIRED)
            ended += 1
    return ended


# --- Steps ----------------------------------------------------------------------------------------

PROMPTS = {
    Step.PROJECT: "Which project is it about?",
    Step.TITLE: "In a few words, what is wrong? (the ticket's title)",
    Step.DESCRIPTION: ("Please describe it: what you did, what you expected and what happened. "
                       "You may send screenshots too."),
    Step.PRIORITY: "How urgent is it?",
    Step.CATEGORY: "What kind of request is it?",
}
NEXT = {Step.PROJECT: Step.TITLE, Step.TITLE: Step.DESCRIPTION, Step.DESCRIPTION: Step.PRIORITY,
        Step.PRIORITY: Step.CATEGORY, Step.CATEGORY: Step.CONFIRM}
CHOICES = {Step.PRIORITY: ("priority", Priority), Step.CATEGORY: ("category", Category)}


def _ask(conversation: Conversation, before: str = "") -> Answer:
    """The question `conversation` waits on, with its choices."""
    step = conversation.step
    if step == Step.CONFIRM:
        return Answer(before + _summary(conversation), choices=[
            _choice(conversation, "file", "File it"), _choice(conversation, "cancel", "Cancel")])
    if step == Step.PROJECT:
        offered = [_choice(conversation, str(n), name)
                   for n, name in enumerate(conversation.projects)]
        hint = " Choose one, or type its name." if offered else " Type its name."
        return Answer(before + PROMPTS[step] + hint, choices=offered)
    if step in CHOICES:
        _, options = CHOICES[step]
        return Answer(before + PROMPTS[step], choices=[
            _choice(conversation, option.value, option.label) for option in options])
    return Answer(before + PROMPTS[step])


def _choice(conversation: Conversation, value: str, title: str) -> list[str]:
    return [f"{START}:{conversation.pk}:{conversation.step}:{value}", title]


def _answer(conversation: Conversation, field: str, value: str) -> Answer:
    """A written answer, checked as the API checks that field."""
    try:
        value = TicketInputSerializer().fields[field].run_validation(value.strip())
    except ValidationError as exc:
        return _ask(conversation, " ".join(str(problem) for problem in exc.detail) + " ")
    setattr(conversation, field, value)
    return _next(conversation, field)


def _choose(conversation: Conversation, picked: str) -> Answer:
    field, options = CHOICES[conversation.step]
    wanted = picked.strip(" .!").lower()
    found = next((option for option in options
                  if wanted in (option.value.lower(), option.label.lower())), None)
    if found is None:
        allowed = ", ".join(option.label for option in options)
        return _ask(conversation, f"\"{picked[:40]}\" is not one of {allowed}. ")
    setattr(conversation, field, found.value)
    return _next(conversation, field)


def _next(conversation: Conversation, field: str) -> Answer:
    conversation.step = NEXT[conversation.step]
    _touch(conversation, field, "step")
    return _ask(conversation)


def _summary(conversation: Conversation) -> str:
    description = conversation.description
    if len(description) > SHOWN:
        description = description[:SHOWN - 1] + "…"
    files = f"\n*Files:* {len(conversation.files)}" if conversation.files else ""
    return (f"Please check your ticket:\n*Project:* {conversation.project_name}\n"
            f"*Title:* {conversation.title}\n*Priority:* {Priority(conversation.priority).label}\n"
            f"*Category:* {Category(conversation.category).label}\n*Description:* {description}"
            f"{files}\n\nTap File it to file it, or Cancel.")


def _file(conversation: Conversation) -> Answer:
    """File it through the API's validation and service; its files are fetched after."""
    fields = {"title": conversation.title, "description": conversation.description,
              "project_name": conversation.project_name, "priority": conversation.priority,
              "category": conversation.category}
    serializer = TicketInputSerializer(data=fields)
    if not serializer.is_valid():
        problems = "; ".join(f"{name}: {' '.join(map(str, errors))}"
                             for name, errors in serializer.errors.items())
        return Answer(f"Not filed: {problems}. Send CANCEL and NEW to start again.")
    try:
        ticket = tickets.ticket_create(client=conversation.user, source=Source.WHATSAPP,
                                       **serializer.validated_data)
    except ApplicationError as exc:
        _end(conversation, Step.CANCELLED)
        return Answer(f"Not filed: {exc.detail}")
    received = ReceivedMessage.objects.in_bulk([kept["received"] for kept in conversation.files])
    for kept in conversation.files:
        media.queue(received=received[kept["received"]], user=conversation.user, ticket=ticket,
                    internal=False, file=kept["file"])
    conversation.ticket = ticket
    _end(conversation, Step.FILED)
    return Answer(f"Filed: ticket #{ticket.pk} \"{ticket.title}\". You will be told here as it "
                  "moves on; reply to those messages to add to it.", ticket)


def _cancel(conversation: Conversation) -> Answer:
    _end(conversation, Step.CANCELLED)
    return Answer("Cancelled: nothing was filed. Send NEW to start again.")


def _over(user: AbstractBaseUser, pk: int) -> Answer:
    """A tap on a conversation that is no longer open (or never was this person's)."""
    ended = Conversation.objects.filter(pk=pk, user=user).first()
    if ended is not None and ended.step == Step.FILED and ended.ticket_id:
        return Answer(f"Already filed as ticket #{ended.ticket_id}.", ended.ticket)
    return Answer("That ticket is no longer being filed, so nothing was done. Send NEW to file "
                  "one.")


def _touch(conversation: Conversation, *fields: str) -> None:
    conversation.expires_at = timezone.now() + IDLE
    conversation.save(update_fields=[*fields, "expires_at"])


def _idle(conversation: Conversation) -> bool:
    return conversation.expires_at <= timezone.now()


def _end(conversation: Conversation, step: Step) -> None:
    conversation.step, conversation.ended_at = step, timezone.now()
    conversation.save(update_fields=["step", "ended_at", "ticket"])


def _recent_projects(user: AbstractBaseUser) -> list[str]:
    """The projects of the person's latest tickets, newest first, each once."""
    names: list[str] = []
    recent = Ticket.objects.filter(client=user).order_by("-created_at", "-id")
    for name in recent.values_list("project_name", flat=True)[:200]:
        if name not in names:
            names.append(name)
            if len(names) == PROJECTS:
                break
    return names


def may_file(user: AbstractBaseUser) -> bool:
    try:
        tickets.ensure_filing_allowed(user)
    except ApplicationError:
        return False
    return True


def _status(user: AbstractBaseUser) -> Answer:
    found = list(selectors.tickets_visible_to(user=user).exclude(status__in=NO_COMMENTS)
                 .order_by("-updated_at", "-id")[:LISTED + 1])
    filing = [FILE_A_TICKET] if may_file(user) else []
    if not found:
        return Answer("You have no open tickets." + (" Send NEW to file one." if filing else ""),
                      choices=filing)
    listed = "\n".join(f"#{t.pk} {t.title}: {t.get_status_display()}" for t in found[:LISTED])
    more = "\n…and more (GET /api/tickets/ lists them all)." if len(found) > LISTED else ""
    return Answer("Your open tickets:\n" + listed + more, choices=filing)
