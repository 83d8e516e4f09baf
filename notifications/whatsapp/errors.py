"""What each Graph error code means for whoever reads the notification log, what to do, and what
the product does about it by itself.

Meta asks integrations to branch on `error.code` (not on HTTP status, subcode or the title in
`message`), so this table is keyed by code. Each code has one retry class (notifications.outcomes
turns it into the next step). Sources: Meta's error-codes page as summarised in
../shared/docs/whatsapp-cloud-api.md §2.3, and the setup guide's troubleshooting section.
"""
import re
from dataclasses import dataclass

from notifications.sending import Retry


@dataclass(frozen=True)
class GraphError:
    meaning: str
    action: str
    retry: Retry = Retry.NEVER
    # Sending it again cannot help whatever anybody fixes on our side (the person opted out, the
    # number is the sender's own...): bulk resends leave it out.
    final: bool = False


_TOKEN = ("Generate a permanent token (setup guide step 9: Business Settings → System Users → "
          "Generate New Token, with whatsapp_business_messaging) and set WHATSAPP_ACCESS_TOKEN. ")
_PERMISSION = ("Check the token in Meta's Access Token Debugger: it needs whatsapp_business_messaging "
               "(and whatsapp_business_management for templates). ")

GRAPH_ERRORS: dict[int, GraphError] = {
    0: GraphError("The app could not be authenticated (the access token expired or was invalidated)",
                  _TOKEN + "Then resend."),
    1: GraphError("Meta could not handle the request (an invalid request or a fault at Meta)",
                  "Nothing, if it passes; it is tried again later. If it persists, check Meta's "
                  "status page.", Retry.LATER),
    2: GraphError("Meta's service is temporarily down or overloaded",
                  "Nothing: it is tried again later.", Retry.LATER),
    3: GraphError("The app lacks a capability or permission for this call", _PERMISSION),
    4: GraphError("The app's API call rate limit was reached",
                  "Nothing: it is tried again later (the limit resets within the hour).", Retry.LATER),
    10: GraphError("Permission denied: the token lacks a permission or it was removed", _PERMISSION),
    33: GraphError("The business phone number was deleted",
                   "Check WHATSAPP_PHONE_NUMBER_ID against WhatsApp → API Setup."),
    100: GraphError("A parameter is not valid",
                    "Check the recipient's number (country code and number, e.g. +201234567890) and "
                    "WHATSAPP_PHONE_NUMBER_ID (WhatsApp → API Setup in the Meta Developer Console)."),
    190: GraphError("The access token has expired or is invalid",
                    _TOKEN + "Temporary tokens last 24 hours."),
    368: GraphError("The business account is temporarily blocked for policy violations",
                    "Check Account Quality in WhatsApp Manager; resend once the block is lifted."),
    80007: GraphError("The WhatsApp Business Account's rate limit was reached",
                      "Nothing: it is tried again later (the limit resets hourly).", Retry.LATER),
    130403: GraphError("The business has blocked this user on WhatsApp, so nothing reaches them",
                       "If the block was a mistake, unblock the user (WhatsApp Manager, or Meta's "
                       "block users API), then resend."),
    130429: GraphError("Cloud API message throughput was reached (80 messages a second by default)",
                       "Nothing: sending that number pauses a few seconds and it is tried again.",
                       Retry.LATER),
    130472: GraphError("The recipient's number is part of a Meta experiment, so the message was not "
                       "sent (and not charged)", "Nothing to do.", final=True),
    130497: GraphError("The business account may not message users in the recipient's country",
                       "See WhatsApp's Business Messaging Policy for the countries your business "
                       "category may message.", final=True),
    131000: GraphError("Something went wrong at Meta while sending; the message may or may not have "
                       "gone out", "Wait for a delivery report; if none comes, check with the "
                       "recipient before resending, and quote the fbtrace_id to Meta if it keeps "
                       "happening.", Retry.UNKNOWN),
    131005: GraphError("Access denied: the token may not send for this number", _PERMISSION),
    131008: GraphError("A required parameter is missing",
                       "A fault in the request: report it with the fbtrace_id."),
    131009: GraphError("A parameter value is not valid",
                       "Check the recipient's number and the template parameters (WHATSAPP_TEMPLATES)."),
    131016: GraphError("Meta's service is unavailable for the moment",
                       "Nothing: it is tried again later.", Retry.LATER),
    131021: GraphError("The recipient is the business number itself",
                       "Give the user their own number, not the business number.", final=True),
    131026: GraphError("The message could not be delivered: the number is not on WhatsApp, has not "
                       "accepted WhatsApp's terms, or uses an outdated WhatsApp version",
                       "Check the number on the user's profile and ask them to update WhatsApp."),
    131030: GraphError("Recipient phone number not in allowed list",
                       "Add the number in the Meta Developer Console → WhatsApp → API Setup → "
                       "Manage phone number list (test numbers can message at most 5 verified "
                       "recipients), or use a production business number."),
    131031: GraphError("The business account is locked",
                       "Check Account Quality and the two-step verification PIN in WhatsApp Manager."),
    131037: GraphError("The business number's display name is not approved yet",
                       "Get the display name approved in WhatsApp Manager → Phone numbers, then resend."),
    131042: GraphError("A payment problem on the WhatsApp Business Account (no valid payment method, "
                       "credit line over its limit, or billing not set up)",
                       "Fix the payment settings in Meta Business Suite → Billing, then resend."),
    131045: GraphError("The business number's registration or certificate is not valid",
                       "Register the number again (WhatsApp Manager, or POST /{phone-number-id}/register)."),
    131047: GraphError("More than 24 hours have passed since the recipient last wrote to the business "
                       "number, so a free-text message is refused",
                       "Resend it: a resend goes as the approved template. Or set "
                       "WHATSAPP_MESSAGE_MODE=auto so this happens by itself."),
    131048: GraphError("Sending is restricted because of spam reports or low quality",
                       "Pause sending and check the number's quality rating in WhatsApp Manager."),
    131049: GraphError("Meta chose not to deliver this message to keep user engagement healthy (a "
                       "limit on marketing messages per user)",
                       "Do not resend at once; register the templates as UTILITY, not MARKETING."),
    131050: GraphError("The recipient chose to stop marketing messages from this business",
                       "Do not resend; use a UTILITY template for ticket notifications.", final=True),
    131051: GraphError("The message type is not supported",
                       "A fault in the request: report it with the fbtrace_id."),
    131053: GraphError("The media could not be uploaded", "Check the media, then resend."),
    131056: GraphError("Too many messages to this recipient in a short time (pair rate limit)",
                       "Nothing: it is tried again later; other recipients are unaffected.",
                       Retry.LATER),
    131057: GraphError("The business account is in maintenance (for example a throughput upgrade)",
                       "Nothing: it is tried again in a minute.", Retry.LATER),
    131062: GraphError("This kind of message cannot be sent to a business-scoped user id",
                       "Give the user a phone number on their profile; WhatsApp sends only to "
                       "numbers for this message type."),
    132000: GraphError("The number of template parameters does not match the template's body",
                       "Make the event's \"params\" in WHATSAPP_TEMPLATES list exactly as many fields "
                       "as the template has {{n}} placeholders in WhatsApp Manager."),
    132001: GraphError("The template does not exist in that language or is not approved yet",
                       "Check the template name and language code in WhatsApp Manager against "
                       "WHATSAPP_TEMPLATES, and wait for approval: manage.py whatsapp_templates "
                       "lists what is missing, and --create submits it."),
    132005: GraphError("The template's translated text is too long",
                       "Shorten the parameter values or the template text."),
    132007: GraphError("The template's content violates WhatsApp policy",
                       "Edit the template in WhatsApp Manager and submit it again."),
    132012: GraphError("Template parameter values are formatted incorrectly",
                       "Check that each parameter in WHATSAPP_TEMPLATES fits the template's "
                       "placeholder type."),
    132015: GraphError("The template is paused because of low quality",
                       "Edit the template in WhatsApp Manager, or map the event to another approved "
                       "template in WHATSAPP_TEMPLATES."),
    132016: GraphError("The template is disabled after repeated quality problems",
                       "Create a new template and map the event to it in WHATSAPP_TEMPLATES."),
    132068: GraphError("The Flow is blocked", "Fix the Flow in WhatsApp Manager."),
    132069: GraphError("The Flow is throttled", "Nothing: it is tried again later.", Retry.LATER),
    133010: GraphError("The business phone number is not registered on the WhatsApp Cloud API",
                       "Finish registering the number (WhatsApp Manager, or POST "
                       "/{phone-number-id}/register) and check WHATSAPP_PHONE_NUMBER_ID."),
    135000: GraphError("Meta could not send the message because of an unspecified problem with the "
                       "request's parameters", "Report it to Meta with the fbtrace_id."),
}
# Permission errors come as any code from 200 to 299.
_PERMISSIONS = GraphError("The app lacks permission for this call (or no token was sent)",
                          "Check that WHATSAPP_ACCESS_TOKEN is set. " + _PERMISSION)
_TITLE_PREFIX = re.compile(r"^\(#\d+\)\s*")


def lookup(code: int | None) -> GraphError | None:
    if code is None:
        return None
    return GRAPH_ERRORS.get(code) or (_PERMISSIONS if 200 <= code <= 299 else None)


# A gateway answering these may have passed the request on to Graph before giving up waiting.
MAY_HAVE_PASSED = (502, 504)


def retry_class(code: int | None, http_status: int | None = None) -> Retry:
    """The code's class; without a known code, a 502 or 504 may have gone out (UNKNOWN), another
    5xx (Meta's side, nothing accepted) is retried now, anything else needs a person."""
    info = lookup(code)
    if info is not None:
        return info.retry
    if http_status in MAY_HAVE_PASSED:
        return Retry.UNKNOWN
    return Retry.NOW if (http_status or 0) >= 500 else Retry.NEVER


# Codes no resend can cure: bulk resends leave their rows out.
FINAL_CODES = tuple(str(code) for code, info in GRAPH_ERRORS.items() if info.final)


def explain(code: int | None, graph_message: str = "", details: str = "") -> str:
    """A log line for an error: what happened and what to do, with Meta's own details once."""
    title = _TITLE_PREFIX.sub("", graph_message).strip()
    details = details.strip()
    info = lookup(code)
    if info is None:
        if title and details and details.lower() not in title.lower():
            return f"{title}: {details}"
        return details or title or "Graph returned an error without a message"
    text = f"{info.meaning}. {info.action}"
    return f"{text} (Meta: {details})" if details and details.lower() != info.meaning.lower() else text
