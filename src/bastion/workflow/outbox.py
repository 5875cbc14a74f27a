"""Messages to notifiers and users: rendered from templates, queued in the same transaction as
the change they report (a transactional outbox), then sent by a transport.

Transports: ``file`` (one .eml file per message under ``<data_dir>/outbox``, the default),
``console`` (stderr) and ``smtp``. A message that fails stays pending and is retried by
``bastion outbox send``; after five failed attempts it is marked failed.
"""

from __future__ import annotations

import smtplib
import sys
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

import jinja2

from bastion.clock import Clock
from bastion.errors import ConfigError
from bastion.policy.model import new_id
from bastion.settings import Settings
from bastion.storage.db import Database
from bastion.storage.workflow import appeals as appeal_repo
from bastion.storage.workflow import notices as notice_repo
from bastion.storage.workflow import outbox as repo
from bastion.storage.workflow.outbox import Message
from bastion.workflow.clocks import add_months

LANGUAGES = ("en", "de")
MAX_ATTEMPTS = 5


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class FileTransport:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{message['X-Bastion-Message']}.eml"
        (self.directory / name).write_bytes(bytes(message))


class ConsoleTransport:
    def send(self, message: EmailMessage) -> None:
        sys.stderr.write(f"--- outgoing message ---\n{message.as_string()}\n")


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ConfigError("BASTION_OUTBOX_ADAPTER=smtp needs BASTION_SMTP_HOST")
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        assert s.smtp_host is not None
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as client:
            if s.smtp_starttls:
                client.starttls()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                client.login(s.smtp_username, password)
            client.send_message(message)


def transport_for(settings: Settings) -> Transport:
    if settings.outbox_adapter == "smtp":
        return SmtpTransport(settings)
    if settings.outbox_adapter == "console":
        return ConsoleTransport()
    return FileTransport(settings.data_dir / "outbox")


# -- templates ----------------------------------------------------------------------------------

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("bastion.workflow", "templates"),
    autoescape=False,  # plain-text messages  # noqa: S701
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def language_for(preferred: str | None) -> str:
    """The preferred language when templates exist for it, else English."""
    value = (preferred or "en").lower()[:2]
    return value if value in LANGUAGES else "en"


def render(name: str, language: str | None, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """(language used, subject, body). Templates start with a ``Subject:`` line."""
    chosen = language_for(language)
    try:
        template = _env.get_template(f"{chosen}/{name}.txt.j2")
    except jinja2.TemplateNotFound:
        chosen = "en"
        template = _env.get_template(f"en/{name}.txt.j2")
    text = template.render(**context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject: "):
        raise ConfigError(f"template {chosen}/{name} must start with a 'Subject:' line")
    return chosen, first[len("Subject: ") :].strip(), body.lstrip("\n")


# -- queue and dispatch -------------------------------------------------------------------------


def enqueue(
    conn: Any,
    clock: Clock,
    *,
    kind: str,
    to: str,
    subject: str,
    body: str,
    ref_id: str,
) -> str:
    message_id = new_id()
    repo.add(
        conn,
        Message(
            id=message_id,
            created_at=clock.now(),
            kind=kind,
            to_address=to,
            subject=subject,
            body=body,
            ref_id=ref_id,
            status="pending",
            attempts=0,
        ),
    )
    return message_id


def _email(message: Message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(idstring=message.id.replace("-", ""))
    email["X-Bastion-Message"] = message.id
    email.set_content(message.body)
    return email


def dispatch(
    db: Database, transport: Transport, clock: Clock, settings: Settings, limit: int = 100
) -> tuple[int, int]:
    """Send pending messages. Returns (sent, failed). Never raises for a transport error."""
    with db.connect() as conn:
        batch = repo.pending(conn, limit, MAX_ATTEMPTS)
    sent = failed = 0
    for message in batch:
        try:
            transport.send(_email(message, settings.mail_from))
        except (OSError, smtplib.SMTPException, ConfigError) as exc:
            failed += 1
            attempts = message.attempts + 1
            with db.begin() as conn:
                repo.mark(
                    conn,
                    message.id,
                    attempts=attempts,
                    error=f"{type(exc).__name__}: {exc}"[:500],
                    status="failed" if attempts >= MAX_ATTEMPTS else "pending",
                )
            continue
        sent += 1
        at = clock.now()
        with db.begin() as conn:
            repo.mark(conn, message.id, status="sent", sent_at=at, attempts=message.attempts + 1)
            # The appeal window (Art. 20(2)) runs from the moment the person is informed.
            appeal_repo.inform_tokens(
                conn, message.id, at, add_months(at, settings.appeal_window_months)
            )
            if message.kind == "notifier_decision":
                notice_repo.mark_informed(conn, message.ref_id, at)
    return sent, failed
