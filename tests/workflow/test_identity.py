"""Notifier identity: every spelling of one mailbox is one notifier (issue 10)."""

from __future__ import annotations

import pytest

from bastion.workflow.identity import canonical_email


@pytest.mark.parametrize(
    ("given", "mailbox"),
    [
        ("Name@Example.org", "name@example.org"),
        ("name+2@example.org", "name@example.org"),
        ("name+tag+more@example.org.", "name@example.org"),
        ("N.a.m.e+x@googlemail.com", "name@gmail.com"),
        ("first.last@outlook.com", "first.last@outlook.com"),  # dots matter elsewhere
        ("ｎａｍｅ@example.org", "name@example.org"),  # full-width letters (NFKC)
        ("user@bücher.example", "user@xn--bcher-kva.example"),
        ("+only@example.org", "+only@example.org"),
        ("not an address", "not an address"),
    ],
)
def test_one_mailbox_one_canonical_address(given: str, mailbox: str) -> None:
    assert canonical_email(given) == mailbox
