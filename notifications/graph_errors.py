"""What each Graph error code means for whoever reads the notification log, and what to do.

Meta asks integrations to branch on `error.code` (not on HTTP status or the title), so this table
is keyed by code. `temporary` says whether sending the same request again later can succeed
without a person fixing something first. Sources: ../shared/docs/whatsapp-cloud-api.md §2.3 and
the setup guide's troubleshooting section.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class GraphErrorInfo:
    meaning: str
    action: str
    temporary: bool = False


GRAPH_ERRORS: dict[int, GraphErrorInfo] = {
    0: GraphErrorInfo(
        "The app could not be authenticated (the access token expired or was invalidated)",
        "Generate a new token, ideally a permanent System User token (setup guide step 9), and "
        "set WHATSAPP_ACCESS_TOKEN.",
    ),
    4: GraphErrorInfo(
        "The app's API call rate limit was reached",
        "Wait before sending again; the limit resets within the hour.",
        temporary=True,
    ),
    10: GraphErrorInfo(
        "Permission denied: the token lacks a permission or it was removed",
        "Give the token the whatsapp_business_messaging permission and generate it again.",
    ),
    100: GraphErrorInfo(
        "A parameter is not valid",
        "Check the recipient's number (country code and number, e.g. +201234567890) and "
        "WHATSAPP_PHONE_NUMBER_ID (WhatsApp → API Setup in the Meta Developer Console).",
    ),
    190: GraphErrorInfo(
        "The access token has expired or is invalid",
        "Generate a permanent token (setup guide step 9: Business Settings → System Users → "
        "Generate New Token) and set WHATSAPP_ACCESS_TOKEN. Temporary tokens last 24 hours.",
    ),
    200: GraphErrorInfo(
        "The app lacks permission for this call (or no token was sent)",
        "Check that WHATSAPP_ACCESS_TOKEN is set and has whatsapp_business_messaging.",
    ),
    368: GraphErrorInfo(
        "The business account is temporarily blocked for policy violations",
        "Check Account Quality in WhatsApp Manager; sending resumes when the block is lifted.",
    ),
    80007: GraphErrorInfo(
        "The WhatsApp Business Account's rate limit was reached",
        "Wait and send again later; the limit resets hourly.",
        temporary=True,
    ),
    130429: GraphErrorInfo(
        "Cloud API message throughput was reached (80 messages a second by default)",
        "Send again shortly; the limit clears as soon as the rate drops.",
        temporary=True,
    ),
    131000: GraphErrorInfo(
        "Something went wrong at Meta while sending; the message may or may not have gone out",
        "Try again later; if it keeps happening, contact Meta support with the fbtrace_id.",
        temporary=True,
    ),
    131026: GraphErrorInfo(
        "The message could not be delivered: the number is not on WhatsApp, has not accepted "
        "WhatsApp's terms, or uses an outdated WhatsApp version",
        "Check the number on the user's profile and ask them to update WhatsApp.",
    ),
    131030: GraphErrorInfo(
        "Recipient phone number not in allowed list",
        "Add the number in the Meta Developer Console → WhatsApp → API Setup → Manage phone "
        "number list (test numbers can message at most 5 verified recipients), or use a "
        "production business number.",
    ),
    131031: GraphErrorInfo(
        "The business account is locked",
        "Check Account Quality and the two-step verification PIN in WhatsApp Manager.",
    ),
    131047: GraphErrorInfo(
        "More than 24 hours have passed since the recipient last wrote to the business number, "
        "so a free-text message is refused",
        "Ask the recipient to send any message to the business number, or send an approved "
        "template instead.",
    ),
    131048: GraphErrorInfo(
        "Sending is restricted because of spam reports or low quality",
        "Pause sending and check the number's quality rating in WhatsApp Manager.",
    ),
    131056: GraphErrorInfo(
        "Too many messages to this recipient in a short time (pair rate limit)",
        "Wait a few seconds before messaging this person again; other recipients are unaffected.",
        temporary=True,
    ),
    131057: GraphErrorInfo(
        "The business account is in maintenance (for example a throughput upgrade)",
        "Send again in a minute.",
        temporary=True,
    ),
    132000: GraphErrorInfo(
        "The number of template parameters does not match the template's body",
        "Make the event's \"params\" in WHATSAPP_TEMPLATES list exactly as many fields as the "
        "template has {{n}} placeholders in WhatsApp Manager.",
    ),
    132001: GraphErrorInfo(
        "The template does not exist in that language or is not approved yet",
        "Check the template name and language code in WhatsApp Manager against "
        "WHATSAPP_TEMPLATES, and wait for approval.",
    ),
    132012: GraphErrorInfo(
        "Template parameter values are formatted incorrectly",
        "Check that each parameter in WHATSAPP_TEMPLATES fits the template's placeholder type.",
    ),
    132005: GraphErrorInfo(
        "The template's translated text is too long",
        "Shorten the parameter values or the template text.",
    ),
    132007: GraphErrorInfo(
        "The template's content violates WhatsApp policy",
        "Edit the template in WhatsApp Manager and submit it again.",
    ),
    132015: GraphErrorInfo(
        "The template is paused because of low quality",
        "Edit the template in WhatsApp Manager, or map the event to another approved template "
        "in WHATSAPP_TEMPLATES.",
    ),
    132016: GraphErrorInfo(
        "The template is disabled after repeated quality problems",
        "Create a new template and map the event to it in WHATSAPP_TEMPLATES.",
    ),
    133010: GraphErrorInfo(
        "The business phone number is not registered on the WhatsApp Cloud API",
        "Finish registering the number (WhatsApp Manager, or POST /{phone-number-id}/register) "
        "and check WHATSAPP_PHONE_NUMBER_ID.",
    ),
}


def explain(code: int | None, graph_message: str = "", details: str = "") -> str:
    """A log line for an error: what happened and what to do, or Graph's words for unknown codes."""
    info = GRAPH_ERRORS.get(code) if code is not None else None
    if info is None:
        text = graph_message or "Graph returned an error without a message"
        return f"{text}: {details}" if details and details not in text else text
    text = f"{info.meaning}. {info.action}"
    return f"{text} (Meta: {details})" if details else text


def is_temporary(code: int | None) -> bool:
    info = GRAPH_ERRORS.get(code) if code is not None else None
    return bool(info and info.temporary)
