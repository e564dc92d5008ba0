"""E-mail over SMTP (``smtplib``), with optional STARTTLS and login."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage

from mlvitals.alerts.notifiers.base import Delivery, Permanent, Retry, Transient, with_retries
from mlvitals.alerts.receivers import EmailConfig


def send_email(
    config: EmailConfig,
    message: EmailMessage,
    *,
    password: str = "",
    retry: Retry,
    sleep: Callable[[float], None] = time.sleep,
    tls_context: ssl.SSLContext | None = None,
) -> Delivery:
    """Send ``message`` through ``config.host``; SMTP 4xx replies and connection failures
    are retried, 5xx replies (a rejected sender or recipient) are not."""

    def attempt() -> int | None:
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
                smtp.ehlo()
                if config.starttls:
                    smtp.starttls(context=tls_context or ssl.create_default_context())
                    smtp.ehlo()
                if config.username:
                    smtp.login(config.username, password)
                refused = smtp.send_message(message, config.sender, list(config.to))
        except smtplib.SMTPRecipientsRefused as exc:
            raise Permanent(f"all recipients refused: {sorted(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            message_text = f"SMTP {exc.smtp_code}: {text}"
            if 400 <= exc.smtp_code < 500:
                raise Transient(message_text, exc.smtp_code) from None
            raise Permanent(message_text, exc.smtp_code) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise Transient(f"SMTP failure: {exc or type(exc).__name__}") from None
        if refused:
            raise Permanent(f"recipients refused: {sorted(refused)}")
        return None

    return with_retries(attempt, retry, sleep)
