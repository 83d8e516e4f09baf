"""The WhatsApp Cloud API client: one pooled HTTP session, timeouts always set, every outcome a
SendResult, the access token never in a result, a log line or an exception."""
import logging
import os
import time
from urllib.parse import quote

import requests
import urllib3
from requests.adapters import HTTPAdapter

from notifications.whatsapp import errors, versions
from notifications.sending import Failure, SendResult
from notifications.whatsapp.types import Button, Media, MediaUnavailable, TemplateMessage
from notifications.models import NotificationStatus

logger = logging.getLogger(__name__)

# Connecting should never take long; reading waits for Graph to process the message.
MAX_CONNECT_TIMEOUT = 5.0
# Meta's limits for choices: reply buttons per message and characters of their titles, rows of a
# list message and characters of their titles; and the label of the button that opens the list.
REPLY_BUTTONS, BUTTON_TITLE, LIST_ROWS, ROW_TITLE = 3, 20, 10, 24
LIST_BUTTON = "Choose"


class WhatsAppClient:
    def __init__(
        self,
        *,
        access_token: str,
        phone_number_id: str,
        api_version: str = versions.DEFAULT,
        base_url: str = "https://graph.facebook.com",
        timeout: float = 10.0,
        pool_size: int = 16,
    ) -> None:
        if not access_token:
            raise ValueError("WhatsAppClient needs an access token; use console mode without one.")
        self._token = access_token
        self.base_url = base_url.rstrip("/")
        self.version = api_version
        self.url = f"{self.base_url}/{quote(api_version)}/{quote(phone_number_id)}/messages"
        self.timeout = (min(MAX_CONNECT_TIMEOUT, timeout), timeout)
        self._session = requests.Session()
        # The environment (proxies, CA bundle) is read once, here, not on every send: requests'
        # per-call look-up costs more CPU than the rest of a send, under one GIL for the fan-out.
        self._session.proxies = requests.utils.get_environ_proxies(self.url)
        self._session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get(
            "CURL_CA_BUNDLE") or True
        self._session.trust_env = False
        # One pool sized for the fan-out, so concurrent sends reuse connections, not queue for one.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update(
            {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
        )
        # Every send is the same POST with another body: prepared once, copied per send, and
        # handed to the adapter. Session.request would merge settings, cookies and hooks anew each
        # time, CPU that a 20-recipient fan-out pays 20 times under one GIL.
        self._prepared = self._session.prepare_request(requests.Request("POST", self.url))
        self._adapter = self._session.get_adapter(self.url)

    def __repr__(self) -> str:  # never show the token, even in a debugger or a traceback
        return f"<WhatsAppClient {self.url}>"

    def send_text(self, *, to: str, body: str, callback_data: str = "",
                  buttons: list[Button] = ()) -> SendResult:
        """Free text; with `buttons`, an interactive message whose reply buttons send their
        payloads back (inside the 24-hour window only, like any free text). WhatsApp shows at
        most three reply buttons: more choices go as a list message (up to ten rows)."""
        if len(buttons) > REPLY_BUTTONS:
            return self._post(self._envelope(to, callback_data, type="interactive", interactive={
                "type": "list", "body": {"text": body},
                "action": {"button": LIST_BUTTON, "sections": [{"rows": [
                    {"id": payload, "title": title[:ROW_TITLE]}
                    for payload, title in buttons[:LIST_ROWS]]}]}}))
        if buttons:
            return self._post(self._envelope(to, callback_data, type="interactive", interactive={
                "type": "button", "body": {"text": body},
                "action": {"buttons": [{"type": "reply", "reply": {"id": payload, "title": title[:BUTTON_TITLE]}}
                                       for payload, title in buttons]}}))
        return self._post(
            self._envelope(to, callback_data, type="text", text={"preview_url": False, "body": body})
        )

    def send_template(self, *, to: str, template: TemplateMessage, callback_data: str = "") -> SendResult:
        content = {"name": template.name, "language": {"code": template.language}}
        components = []
        if template.params:
            components.append({
                "type": "body",
                "parameters": [{"type": "text", "text": value} for value in template.params],
            })
        # A quick-reply button's payload is set per send, by the button's index in the template.
        components += [{"type": "button", "sub_type": "quick_reply", "index": str(index),
                        "parameters": [{"type": "payload", "payload": payload}]}
                       for index, payload in enumerate(template.buttons)]
        if components:
            content["components"] = components
        return self._post(self._envelope(to, callback_data, type="template", template=content))

    @staticmethod
    def _envelope(to: str, callback_data: str, **message) -> dict:
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            # Stored as E.164; sent as digits with the country code (the setup guide's form).
            "to": to.lstrip("+"),
            **message,
        }
        if callback_data:
            # Echoed back in status webhooks, so a status finds its log row by more than the wamid.
            payload["biz_opaque_callback_data"] = callback_data
        return payload

    def _post(self, payload: dict) -> SendResult:
        try:
            request = self._prepared.copy()
            request.prepare_body(data=None, files=None, json=payload)
            response = self._adapter.send(request, timeout=self.timeout, verify=self._session.verify,
                                          proxies=self._session.proxies)
            response.content  # read it all now, so the connection goes back to the pool
        except requests.ConnectTimeout:
            return self._failed(
                f"Could not connect to {self.base_url} within {self.timeout[0]:g} s; the message "
                "was not sent. Check the server's network; resend once WhatsApp is reachable.",
                temporary=True,
                failure=Failure.NOT_SENT,
            )
        except requests.Timeout:
            return self._failed(
                f"No answer from WhatsApp within {self.timeout[1]:g} s. The message may or may not "
                "have gone out; check with the recipient before resending.",
                failure=Failure.OUTCOME_UNKNOWN,
            )
        except requests.ConnectionError as exc:
            if _failed_before_sending(exc):
                return self._failed(
                    f"Could not connect to {self.base_url} (connection refused or host not "
                    "found); the message was not sent. Check the server's network and "
                    "WHATSAPP_API_BASE_URL; resend once it is reachable.",
                    temporary=True,
                    failure=Failure.NOT_SENT,
                )
            return self._failed(
                "The connection to WhatsApp broke before an answer came. The message may or may "
                "not have gone out; check with the recipient before resending.",
                failure=Failure.OUTCOME_UNKNOWN,
            )
        except requests.RequestException as exc:
            return self._failed(
                f"The request to WhatsApp failed: {type(exc).__name__}.",
                failure=Failure.OUTCOME_UNKNOWN,
            )
        return self._read(response)

    def _read(self, response: requests.Response) -> SendResult:
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return self._failed(
                f"WhatsApp answered HTTP {status} with a body that is not JSON (likely a proxy or "
                f"outage page). {_next_step(status)}",
                http_status=status,
                temporary=status >= 500,
                failure=Failure.BAD_ANSWER,
            )
        if 200 <= status < 300:
            message_id = _first_message_id(data)
            if message_id:
                return SendResult(
                    status=NotificationStatus.SENT, message_id=message_id, http_status=status,
                    wa_id=_first(data, "contacts", "wa_id"),
                    message_status=_first(data, "messages", "message_status"),
                )
            return self._failed(
                f"WhatsApp answered HTTP {status} without a message id, so there is no sign the "
                "message was accepted. Check the recipient before resending.",
                http_status=status,
                failure=Failure.BAD_ANSWER,
            )
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        code = error.get("code") if isinstance(error.get("code"), int) else None
        details = (error.get("error_data") or {}).get("details", "") if isinstance(
            error.get("error_data"), dict
        ) else ""
        message = errors.explain(code, str(error.get("message") or ""), str(details or ""))
        if not error:
            message = f"WhatsApp answered HTTP {status} without an error object. {_next_step(status)}"
        retry = errors.retry_class(code, status)
        subcode = error.get("error_subcode")
        return self._failed(
            message,
            http_status=status,
            error_code="" if code is None else str(code),
            temporary=retry in (errors.Retry.NOW, errors.Retry.LATER),
            failure=Failure.PROVIDER_ERROR,
            fbtrace_id=str(error.get("fbtrace_id") or "")[:64],
            error_subcode=str(subcode)[:32] if isinstance(subcode, int) else "",
        )

    # --- Media people send (notifications.whatsapp.media) -----------------------------------------

    def fetch_media(self, media_id: str, *, max_bytes: int, within: float) -> Media:
        """The file behind an inbound message's media id: Graph names a short-lived URL (GET
        /{media-id}), fetched with the token. Raises MediaUnavailable saying why, and whether
        trying again may help. Gives up past `max_bytes` or `within` seconds."""
        started = time.monotonic()
        url = f"{self.base_url}/{quote(self.version)}/{quote(media_id, safe='')}"
        try:
            response = self._session.get(url, timeout=self.timeout)
            info = response.json() if response.status_code < 400 else {}
        except (requests.RequestException, ValueError) as exc:
            raise MediaUnavailable(f"Graph did not answer the media look-up ({type(exc).__name__})",
                                   again=True) from None
        if response.status_code >= 400 or not isinstance(info, dict) or not info.get("url"):
            raise MediaUnavailable(*_media_refusal("look-up", response.status_code))
        size = info.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise MediaUnavailable(f"it is {size:,} bytes, over the limit of {max_bytes:,} "
                                   "(ATTACHMENT_MAX_BYTES)", again=False)
        try:
            with self._session.get(str(info["url"]), timeout=self.timeout, stream=True) as got:
                if got.status_code >= 400:
                    raise MediaUnavailable(*_media_refusal("download", got.status_code))
                content = bytearray()
                for chunk in got.iter_content(64 * 1024):
                    content += chunk
                    if len(content) > max_bytes:
                        raise MediaUnavailable(f"it is over the limit of {max_bytes:,} bytes "
                                               "(ATTACHMENT_MAX_BYTES)", again=False)
                    if time.monotonic() - started > within:
                        raise MediaUnavailable(f"the download took over {within:g} s", again=True)
        except requests.RequestException as exc:
            raise MediaUnavailable(f"the download broke off ({type(exc).__name__})",
                                   again=True) from None
        return Media(bytes(content), str(info.get("mime_type") or ""))

    # --- Templates of the WhatsApp Business Account (manage.py whatsapp_templates) ---------------

    def list_templates(self, account_id: str) -> list[dict]:
        """Every template of the account (name, language, status, category, rejected_reason),
        page after page."""
        url = self._templates_url(account_id)
        params = {"fields": "id,name,language,status,category,rejected_reason", "limit": 100}
        found: list[dict] = []
        for _ in range(100):  # 10,000 templates: far beyond any account's limit
            data = self._manage("GET", url, params=params)
            found += [t for t in data.get("data", []) if isinstance(t, dict)]
            next_page = (data.get("paging") or {}).get("next")
            if not isinstance(next_page, str) or not next_page.startswith(self.base_url):
                break
            url, params = next_page, None
        return found

    def create_template(self, account_id: str, *, name: str, language: str, category: str,
                        body: str, example: list[str], buttons: tuple[str, ...] = ()) -> dict:
        """Submit a template for review; Meta answers with its id and status (usually PENDING).
        `buttons`: the titles of its quick-reply buttons."""
        component = {"type": "BODY", "text": body}
        if example:
            component["example"] = {"body_text": [example]}
        components = [component]
        if buttons:
            components.append({"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": title} for title in buttons]})
        return self._manage("POST", self._templates_url(account_id), json={
            "name": name, "language": language, "category": category, "components": components})

    def _templates_url(self, account_id: str) -> str:
        return f"{self.base_url}/{quote(self.version)}/{quote(account_id)}/message_templates"

    def _manage(self, method: str, url: str, **kwargs) -> dict:
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise GraphCallFailed(self._redact(
                f"Graph did not answer {method} {url.split('?')[0]} usably ({type(exc).__name__})."))
        if response.status_code >= 400 or not isinstance(data, dict):
            error = data.get("error") if isinstance(data, dict) and isinstance(data.get("error"), dict) else {}
            code = error.get("code") if isinstance(error.get("code"), int) else None
            details = (error.get("error_data") or {}).get("details", "") if isinstance(
                error.get("error_data"), dict) else ""
            raise GraphCallFailed(self._redact(
                f"HTTP {response.status_code}, code {code}: "
                + errors.explain(code, str(error.get("message") or ""), str(details or ""))))
        return data

    def _failed(self, message: str, **fields) -> SendResult:
        return SendResult(
            status=NotificationStatus.FAILED, error_message=self._redact(message), **fields
        )

    def _redact(self, text: str) -> str:
        # Defence in depth: Graph has no reason to echo the token, but if it ever did, the log
        # row must not store it.
        return text.replace(self._token, "[redacted]")


def _media_refusal(step: str, status: int) -> tuple[str, bool]:
    """Why Graph refused a media step, and whether trying again may help: a 404 or 400 is an id
    Meta no longer keeps (inbound media lasts 7 days); an expired URL (401, 403) or an outage
    (429, 5xx) passes."""
    if status in (400, 404, 410):
        return (f"Meta no longer has it (HTTP {status} on the {step}; media sent on WhatsApp is "
                "kept for 7 days)", False)
    return f"Graph answered HTTP {status} on the {step}", True


class GraphCallFailed(Exception):
    """A management call (not a send) that Graph refused or did not answer; the text says why."""


def _failed_before_sending(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, unknown host), so nothing was sent.

    A reset or an aborted answer looks the same to requests but may come after Graph took the
    message; those must not be reported as "not sent".
    """
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3 wraps it in MaxRetryError
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _first_message_id(data: dict) -> str:
    return _first(data, "messages", "id")


def _first(data: dict, items: str, key: str) -> str:
    """`data[items][0][key]` when it is a string, else ""."""
    found = data.get(items)
    if isinstance(found, list) and found and isinstance(found[0], dict):
        value = found[0].get(key)
        if isinstance(value, str):
            return value
    return ""


def _next_step(status: int) -> str:
    """What follows an answer that is not Graph's own, as notifications.outcomes decides it."""
    if status in errors.MAY_HAVE_PASSED:
        return ("A gateway answered: the message may or may not have gone out, so it is not sent "
                "again by itself. A delivery report will settle it; check with the recipient "
                "before resending.")
    if status >= 500:
        return "Nothing was accepted; it is tried again by itself."
    return "Check WHATSAPP_API_BASE_URL and any proxy in between; it is not tried again by itself."
