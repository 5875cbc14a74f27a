"""Several senders at once deliver each outbox message exactly once (SQLite and Postgres)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

from bastion.clock import SystemClock
from bastion.policy.model import new_id
from bastion.settings import Settings
from bastion.storage.db import Database
from bastion.storage.workflow import outbox as repo
from bastion.workflow.outbox import dispatch


class Counting:
    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        with self.lock:
            self.sent[str(message["Subject"])] += 1


def test_concurrent_senders_send_each_message_once(database: Database, settings: Settings) -> None:
    clock = SystemClock()
    subjects = [f"message {n}" for n in range(120)]
    with database.begin() as conn:
        for subject in subjects:
            repo.add(
                conn,
                repo.Message(
                    id=new_id(),
                    created_at=clock.now(),
                    kind="notice_receipt",
                    to_address="rae@example.org",
                    subject=subject,
                    body="Thank you.",
                    ref_id=new_id(),
                    status="pending",
                    attempts=0,
                ),
            )
    transport = Counting()

    def sender(_: int) -> int:
        total = 0
        for _ in range(20):
            sent, _failed = dispatch(database, transport, clock, settings, limit=7)
            total += sent
        return total

    with ThreadPoolExecutor(6) as pool:
        totals = list(pool.map(sender, range(6)))
    assert sum(totals) == len(subjects)
    assert transport.sent == Counter(subjects)
    with database.connect() as conn:
        assert repo.counts(conn).get("sent") == len(subjects)
