"""Recall on edited copies of the sample photos; no false matches on distractors.

A smaller version of bench/robustness.py (which runs ≥ 10,000 distractors).
"""

from __future__ import annotations

import pytest

from bastion.hashing.banks import BankService
from bastion.storage.db import Database
from bastion.testing.images import distractors, sample_photo
from tests.hashing.conftest import PHOTOS, TRANSFORMS, encode


@pytest.fixture(scope="module")
def banked(tmp_path_factory: pytest.TempPathFactory) -> BankService:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('robust') / 'b.db'}")
    db.migrate()
    service = BankService(db)
    service.create_bank("known", "ncii")
    for name in PHOTOS:
        service.add_image("known", encode(sample_photo(name)), added_by="t", note=name)
    return service


@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_every_edited_copy_matches(banked: BankService, transform: str) -> None:
    missed = []
    for name in PHOTOS:
        found = banked.lookup_image(TRANSFORMS[transform](sample_photo(name)))
        if name not in {m.entry.note for m in found.matches}:
            missed.append(name)
    assert missed == []


@pytest.mark.slow
def test_no_false_matches_on_distractors(banked: BankService) -> None:
    false = [
        i for i, data in enumerate(distractors(300, seed=7)) if banked.lookup_image(data).matches
    ]
    assert false == []
