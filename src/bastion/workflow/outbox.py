"""Messages to notifiers and users: rendered from templates, queued in the same transaction as
the change they report (a transactional outbox), then sent by a transport.

Transports: ``file`` (one .eml file per message under ``<data_dir>/outbox``, the default),
``console`` (stderr) and ``smtp``. A message that fails stays pending and is retried by
``bastion outbox send`` or the in-process :class:`SenderLoop`; after five failed attempts it is
marked failed. Senders claim messages first, so several processes never send one twice.
"""

from __future__ import annotations

import logging
import smtplib
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
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

log = logging.getLogger("bastion.workflow.outbox")
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
    """Claim and send pending messages. Returns (sent, failed). Never raises for a transport
    error. Safe to run in several threads or processes at once: each message is claimed by
    one sender (see :func:`bastion.storage.workflow.outbox.claim`)."""
    token = new_id()
    now = clock.now()
    with db.begin() as conn:
        batch = repo.claim(
            conn,
            token=token,
            now=now,
            lease_until=now + timedelta(seconds=settings.outbox_lease_seconds),
            limit=limit,
            max_attempts=MAX_ATTEMPTS,
        )
    sent = failed = 0
    for message in batch:
        try:
            transport.send(_email(message, settings.mail_from))
        except (OSError, smtplib.SMTPException, ConfigError) as exc:
            failed += 1
            attempts = message.attempts + 1
            with db.begin() as conn:
                repo.settle(
                    conn,
                    message.id,
                    token,
                    attempts=attempts,
                    error=f"{type(exc).__name__}: {exc}"[:500],
                    status="failed" if attempts >= MAX_ATTEMPTS else "pending",
                )
            continue
        sent += 1
        at = clock.now()
        with db.begin() as conn:
            repo.settle(
                conn, message.id, token, status="sent", sent_at=at, attempts=message.attempts + 1
            )
            # The appeal window (Art. 20(2)) runs from the moment the person is informed.
            appeal_repo.inform_tokens(
                conn, message.id, at, add_months(at, settings.appeal_window_months)
            )
            if message.kind == "notifier_decision":
                notice_repo.mark_informed(conn, message.ref_id, at)
    return sent, failed


class SenderLoop:
    """The in-process sender: a daemon thread that sends queued messages when woken (after
    each committed step) and every ``interval`` seconds (messages left by other processes or
    by failed attempts). Requests never wait for mail: they only call :meth:`wake`."""

    def __init__(self, send: Callable[[], tuple[int, int]], interval: float) -> None:
        self._send = send
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="bastion-outbox", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                while not self._stop.is_set():
                    sent, failed = self._send()
                    if sent + failed == 0 or failed:
                        break  # nothing left, or a transport problem: retry on the next tick
            except Exception:  # the loop must survive a database outage
                log.exception("sending queued messages failed; they stay queued")
