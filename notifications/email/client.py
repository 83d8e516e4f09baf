"""Email through Django's mail framework (console backend by default, SMTP through settings)."""
import logging

from django.conf import settings
from django.core.mail import EmailMessage

from notifications.sending import Failure, SendResult
from notifications.models import NotificationStatus

logger = logging.getLogger(__name__)


class EmailSender:
    def send(self, *, to: str, subject: str, body: str) -> SendResult:
        message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                               to=[to])
        try:
            message_id = message.message()["Message-ID"] or ""
            message.extra_headers["Message-ID"] = message_id
            message.send(fail_silently=False)
        except Exception as exc:  # SMTP errors come in many types; all mean "not sent"
            logger.warning("Email to %s failed: %s", to, type(exc).__name__)
            return SendResult(
                status=NotificationStatus.FAILED,
                error_message=f"The mail server refused or could not be reached ({type(exc).__name__}). "
                "Check EMAIL_HOST, EMAIL_PORT and the credentials; resend afterwards.",
                temporary=True,
                failure=Failure.PROVIDER_ERROR,
            )
        return SendResult(status=NotificationStatus.SENT, message_id=message_id)
