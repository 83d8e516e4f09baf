"""The WhatsApp webhook Meta calls: verify, record, act on tickets, answer; send afterwards."""
import hmac
import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from Incident import deferred
from notifications.whatsapp import inbound, template_state, webhook

logger = logging.getLogger(__name__)


# Meta batches many statuses into one POST and redelivers, for days, anything not answered 200: a
# signed batch is read whole up to this size, far above the API's own DATA_UPLOAD_MAX_MEMORY_SIZE.
WEBHOOK_MAX_BYTES = 20 * 1024 * 1024


def _raw_body(request) -> bytes | None:
    """The raw body (Meta signs it byte for byte), or None when it is over WEBHOOK_MAX_BYTES.

    Read from the stream, not `request.body`, whose size check is the API-wide limit.
    """
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > WEBHOOK_MAX_BYTES:
        return None
    body = request.read(WEBHOOK_MAX_BYTES + 1)
    return None if len(body) > WEBHOOK_MAX_BYTES else body


@method_decorator(csrf_exempt, name="dispatch")
class WhatsAppWebhookView(View):
    """/api/notifications/whatsapp/webhook/: Meta's verification handshake (GET) and events (POST).

    A plain Django view: Meta signs the raw body, so nothing may parse or re-encode it first.
    """

    def get(self, request):
        expected = settings.WHATSAPP_WEBHOOK_VERIFY_TOKEN
        given = request.GET.get("hub.verify_token", "")
        if (
            request.GET.get("hub.mode") == "subscribe"
            and expected
            and hmac.compare_digest(given.encode(), expected.encode())
        ):
            # Echoed byte for byte: leading zeros and long numbers must survive.
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        # JSON like every other refusal; it names nothing about the expected token.
        return JsonResponse({"detail": "Verification failed: hub.mode must be 'subscribe' and "
                             "hub.verify_token must match WHATSAPP_WEBHOOK_VERIFY_TOKEN."},
                            status=403)

    def post(self, request):
        header = request.headers.get("X-Hub-Signature-256", "")
        if not header:
            return JsonResponse({"detail": "Missing X-Hub-Signature-256 header."}, status=401)
        if not settings.WHATSAPP_APP_SECRET and not webhook.simulator_on():
            logger.error("WhatsApp webhook refused: WHATSAPP_APP_SECRET is not set")
        body = _raw_body(request)
        if body is None:
            return JsonResponse({"detail": f"The body is over {WEBHOOK_MAX_BYTES:,} bytes."},
                                status=413)
        if not (webhook.signature_is_valid(body=body, header=header,
                                           app_secret=settings.WHATSAPP_APP_SECRET)
                or (webhook.simulator_on() and webhook.signature_is_valid(
                    body=body, header=header, app_secret=webhook.SIMULATOR_KEY))):
            return JsonResponse({"detail": "Invalid X-Hub-Signature-256."}, status=403)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return JsonResponse({"detail": "Malformed JSON."}, status=400)
        statuses, messages = webhook.parse(payload)
        # Nothing waits on Graph before Meta has its answer: the messages this causes (answers,
        # ticket notifications) are held back and sent once the response is handed over.
        with deferred.deferring() as held:
            webhook.apply_statuses(statuses)
            webhook.apply_inbound(messages)
            inbound.handle(messages)  # what people wrote: comments, button taps, STOP and START
            for field, value in webhook.template_changes(payload):
                template_state.apply_webhook(field, value)
        # Exactly 200 for everything accepted, known or not: anything else is redelivered.
        return ThenSend(held, "OK", content_type="text/plain")


# What webhooks caused is sent on threads of its own once each response has gone out: on the
# server's threads, a burst of taps (each waiting on Graph after answering) would leave none free
# to answer Meta's next POST with.
_after_response = ThreadPoolExecutor(max_workers=4, thread_name_prefix="after-webhook")
_running: set[Future] = set()


def finish_after_response(timeout: float) -> bool:
    """Wait up to `timeout` seconds for what webhooks handed to the threads above; whether all of
    it finished (a test's teardown, or a worker stopping, waits so no send is cut mid-write)."""
    _, pending = wait(list(_running), timeout=timeout)
    return not pending


class ThenSend(HttpResponse):
    """A response whose held-back work starts when the server closes it, after sending it.
    `sent`: that work's future (None when there was nothing to do)."""

    def __init__(self, held: deferred.Deferred, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.held, self.sent = held, None

    def close(self) -> None:
        super().close()
        self.start()

    def start(self) -> None:
        """Start the held-back work (once): on close, or at once for a caller in this process
        that is itself inside a request (the phone simulator), whose close would end it."""
        if self.held.work and self.sent is None:
            self.sent = _after_response.submit(_run, self.held)
            _running.add(self.sent)
            self.sent.add_done_callback(_running.discard)


def _run(held: deferred.Deferred) -> None:
    try:
        held.run()
    except Exception:  # the rows stay QUEUED: the recovery pass sends them
        logger.exception("Could not send what a webhook caused; the recovery pass will")
    finally:
        connections.close_all()  # this thread's own connection, between jobs
