"""The outbox retries and starts the appeal window (the audit chain: test_audit.py)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from bastion.storage.tables import wf_appeal_tokens, wf_outbox
from bastion.testing import FrozenClock
from bastion.workflow import decisions, notices
from bastion.workflow.decisions import DecisionInput
from bastion.workflow.outbox import ConsoleTransport, SmtpTransport, render, transport_for
from bastion.workflow.pii import find_personal_data, scrub
from bastion.workflow.service import PUBLIC, Workflow
from tests.workflow.conftest import MOD_A, START, add_item, dsa_notice


class FlakyTransport:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail = True

    def send(self, message: EmailMessage) -> None:
        if self.fail:
            raise OSError("connection refused")
        self.sent.append(message)


def test_failed_messages_stay_queued_and_the_window_starts_when_sent(
    wf: Workflow, clock: FrozenClock
) -> None:
    transport = FlakyTransport()
    wf.transport = transport
    add_item(wf, "img-1")
    case_id = notices.submit(wf, dsa_notice(), channel="api", actor=PUBLIC).case_ids[0]
    decisions.decide(
        wf,
        case_id,
        DecisionInput(
            visibility="remove",
            ground="illegal",
            legal_ground_id="eu_2024_1385_art5",
            explanation="Deepfake of a real person.",
        ),
        MOD_A,
    )
    with wf.db.connect() as conn:
        assert set(conn.execute(select(wf_outbox.c.status)).scalars()) == {"pending"}
        assert set(conn.execute(select(wf_appeal_tokens.c.informed_at)).scalars()) == {None}
    clock.advance(hours=3)
    transport.fail = False
    sent, failed = wf.send_pending()
    assert (sent, failed) == (3, 0)  # receipt, statement, notifier decision
    with wf.db.connect() as conn:
        informed = set(conn.execute(select(wf_appeal_tokens.c.informed_at)).scalars())
    assert len(informed) == 1
    assert None not in informed
    assert {m["To"] for m in transport.sent} == {"noor@example.org", "img-1@users.example"}


def test_smtp_transport(monkeypatch: pytest.MonkeyPatch, wf: Workflow) -> None:
    calls: list[tuple[str, Any]] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            calls.append(("connect", (host, port)))

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: object) -> None:
            calls.append(("quit", None))

        def starttls(self) -> None:
            calls.append(("starttls", None))

        def login(self, user: str, password: str) -> None:
            calls.append(("login", (user, password)))

        def send_message(self, message: EmailMessage) -> None:
            calls.append(("send", message["To"]))

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    settings = wf.settings.model_copy(
        update={"outbox_adapter": "smtp", "smtp_host": "mail.example", "smtp_username": "bastion"}
    )
    transport = transport_for(settings)
    assert isinstance(transport, SmtpTransport)
    message = EmailMessage()
    message["To"] = "a@example.org"
    transport.send(message)
    assert calls == [
        ("connect", ("mail.example", 587)),
        ("starttls", None),
        ("login", ("bastion", "")),
        ("send", "a@example.org"),
        ("quit", None),
    ]
    assert isinstance(
        transport_for(wf.settings.model_copy(update={"outbox_adapter": "console"})),
        ConsoleTransport,
    )


def test_templates_fall_back_to_english() -> None:
    language, subject, _ = render(
        "appeal_received",
        "de",
        {"platform": "P", "appeal_id": "A", "decision_id": "D", "lodged_at": "now"},
    )
    assert language == "en"
    assert "A" in subject


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("mail me at a.b@example.org", ["email"]),
        ("see www.example.org/profile", ["url"]),
        ("by @someone_else", ["handle"]),
        ("from 10.1.2.3", ["ipv4"]),
        ("IBAN DE89 3704 0044 0532 0130 00", ["iban", "number"]),
        ("phone 0151 2345 6789", ["number"]),
        ("Directive 2011/93/EU, 2026-11-02, section 201a", []),
    ],
)
def test_personal_data_finder(text: str, kinds: list[str]) -> None:
    assert find_personal_data(text) == kinds


def test_scrub_removes_known_values_and_their_parts() -> None:
    text = "Reported by Jane Doe; Jane says acct-77 posted it."
    assert scrub(text, ["Jane Doe", "acct-77"]) == (
        "Reported by [redacted]; [redacted] says [redacted] posted it."
    )
    assert START.year == 2026
