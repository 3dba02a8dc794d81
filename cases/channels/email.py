"""Email over SMTP: STARTTLS (or implicit TLS) with certificate checks, optional login, plain-text body."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from cases.channels import DeliveryError, Message
from cases.channels.config import SmtpConfig
from cases.schema import now


def build_email(msg: Message, to: str, sender: str) -> EmailMessage:
    """The MIME message: headline as subject, text body with the link (no HTML, so nothing is fetched)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = msg.subject
    mail["Date"] = format_datetime(now())
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "vigil.local")
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies must not answer
    mail.set_content(f"{msg.text}\n\nOpen in Vigil (sign-in required): {msg.link}\n")
    return mail


def _context(cfg: SmtpConfig) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cfg.ca_file) if cfg.ca_file else ssl.create_default_context()
    return ctx


def send_email(cfg: SmtpConfig, msg: Message, to: str) -> None:
    """Send one message to one address; raises DeliveryError on any failure (connection, TLS, refusal)."""
    mail = build_email(msg, to, cfg.from_address)
    try:
        if cfg.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=_context(cfg)
            )
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
        with client:
            client.ehlo()
            if cfg.starttls and not cfg.ssl:
                # Never fall back to plain text: a relay that cannot STARTTLS gets nothing.
                if not client.has_extn("starttls"):
                    raise DeliveryError(f"smtp: {cfg.host}:{cfg.port} does not offer STARTTLS")
                client.starttls(context=_context(cfg))
                client.ehlo()
            if cfg.user:
                password = cfg.password()
                if password is None:
                    raise DeliveryError(f"smtp: {cfg.password_env} is not set")
                client.login(cfg.user, password)
            refused = client.send_message(mail)
            if refused:
                raise DeliveryError(f"smtp: refused recipients: {len(refused)}")
    except DeliveryError:
        raise
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise DeliveryError(f"smtp: {type(exc).__name__}: {exc}"[:500]) from exc
