"""Hash banks: named sets of hashes with a per-bank match distance, per-entry metadata and
disable-without-delete, negative banks that suppress known false positives, and the two
stay-down banks (``blocked_generations``, ``removed_content``) filled automatically.

Only hashes are kept, never images. Images given to :meth:`BankService.add_image` are hashed
(plus centred crops, so a cropped re-upload still matches) and dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from bastion.clock import Clock, SystemClock
from bastion.content import Image
from bastion.decode import ImageLimits
from bastion.errors import InvalidInput
from bastion.hashing import pdq
from bastion.hashing.decode import Luma, decode_luma, frame_lumas
from bastion.hashing.model import (
    Bank,
    BankKind,
    Entry,
    EntryInput,
    Lookup,
    Match,
    QueryHash,
    check_actor,
    check_bank_name,
    check_distance,
    check_entry_input,
    suppress,
)
from bastion.hashing.signals import PDQ_MIN_QUALITY, Hash
from bastion.settings import Settings
from bastion.storage.banks import BankRepository
from bastion.storage.db import Database

__all__ = ["BankService", "Lookup", "QueryHash"]

IMPORT_BATCH = 1000
Progress = Callable[[int], None]


class BankService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock | None = None,
        crops: tuple[float, ...] = pdq.DEFAULT_CROPS,
        min_quality: int = PDQ_MIN_QUALITY,
        sync_interval_s: float = 1.0,
        limits: ImageLimits | None = None,
    ) -> None:
        from bastion.hashing.matcher import Matcher

        self.repository = BankRepository(db)
        self.clock = clock or SystemClock()
        self.crops = crops
        self.min_quality = min_quality
        self.limits = limits or ImageLimits()  # the one intake's limits, as on every surface
        self.matcher = Matcher(self.repository, sync_interval_s=sync_interval_s)

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, clock: Clock | None = None
    ) -> BankService:
        """The banks with the image limits, match quality and feed interval of ``settings``:
        the same on every surface (API, workflow, CLI)."""
        return cls(
            db,
            clock=clock,
            min_quality=settings.hash_min_quality,
            sync_interval_s=settings.bank_sync_interval_ms / 1000,
            limits=ImageLimits.from_settings(settings),
        )

    # -- banks --------------------------------------------------------------------------------

    def create_bank(
        self,
        name: str,
        kind: BankKind | str = BankKind.OTHER,
        *,
        match_distance: int = 31,
        negative: bool = False,
        enabled: bool = True,
        description: str = "",
    ) -> Bank:
        try:
            kind = BankKind(kind)
        except ValueError:
            raise InvalidInput(
                f"unknown bank kind {kind!r}; use one of: {', '.join(k.value for k in BankKind)}",
                field="kind",
            ) from None
        bank = Bank(
            id=0,
            name=check_bank_name(name),
            kind=kind,
            match_distance=check_distance(match_distance),
            enabled=enabled,
            negative=negative or kind is BankKind.FALSE_POSITIVES,
            description=description,
        )
        created = self.repository.create_bank(bank, self.clock.now())
        self.matcher.apply_local(banks=True)
        return created

    def bank(self, name: str) -> Bank:
        return self.repository.get_bank(check_bank_name(name))

    def banks(self) -> list[Bank]:
        return self.repository.list_banks()

    def update_bank(
        self,
        name: str,
        *,
        enabled: bool | None = None,
        match_distance: int | None = None,
        description: str | None = None,
    ) -> Bank:
        values: dict[str, Any] = {}
        if enabled is not None:
            values["enabled"] = bool(enabled)
        if match_distance is not None:
            values["match_distance"] = check_distance(match_distance)
        if description is not None:
            values["description"] = description
        bank = self.repository.update_bank(check_bank_name(name), self.clock.now(), **values)
        self.matcher.apply_local(banks=True)
        return bank

    def ensure_bank(self, name: str, kind: BankKind, description: str) -> Bank:
        from bastion.errors import Conflict, NotFound

        try:
            return self.bank(name)
        except NotFound:
            try:
                return self.create_bank(name, kind, description=description)
            except Conflict:  # created concurrently
                return self.bank(name)

    # -- entries ------------------------------------------------------------------------------

    def add(self, bank_name: str, items: Sequence[EntryInput], *, added_by: str) -> list[Entry]:
        """Add hashes with metadata. Matchable by this process as soon as this returns."""
        bank = self.bank(bank_name)
        checked = [check_entry_input(item) for item in items]
        ids = self.repository.add_entries(bank, checked, check_actor(added_by), self.clock.now())
        self.matcher.apply_local(added=ids)
        entries = self.repository.get_entries(ids)
        return [entries[i] for i in ids]

    def add_hash(self, bank_name: str, hex_hash: str, *, added_by: str, **meta: Any) -> Entry:
        return self.add(bank_name, [EntryInput(hash=hex_hash, **meta)], added_by=added_by)[0]

    def add_image(
        self,
        bank_name: str,
        image: bytes,
        *,
        added_by: str,
        crops: bool = True,
        **meta: Any,
    ) -> Entry:
        """Hash an image (plus centred crops) and bank the hashes; the image is not kept."""
        item = self.image_entry(decode_luma(image, limits=self.limits), crops, **meta)
        return self.add(bank_name, [item], added_by=added_by)[0]

    def image_entry(self, luma: Luma, crops: bool = True, **meta: Any) -> EntryInput:
        plain = pdq.hash_luma(luma)
        variants = tuple(
            (c.variant, c.hex) for c in (pdq.crop_hashes(luma, self.crops) if crops else ())
        )
        return EntryInput(hash=plain.hex, quality=plain.quality, variants=variants, **meta)

    def import_entries(
        self,
        bank_name: str,
        items: Iterable[EntryInput],
        *,
        added_by: str,
        progress: Progress | None = None,
    ) -> int:
        """Bulk add in batches (one transaction each); ``progress`` gets the running count."""
        bank = self.bank(bank_name)
        actor, batch, ids = check_actor(added_by), [], []
        for item in items:
            batch.append(check_entry_input(item))
            if len(batch) >= IMPORT_BATCH:
                ids += self.repository.add_entries(bank, batch, actor, self.clock.now())
                batch = []
                if progress:
                    progress(len(ids))
        if batch:
            ids += self.repository.add_entries(bank, batch, actor, self.clock.now())
        if progress:
            progress(len(ids))
        self.matcher.apply_local(added=ids)
        return len(ids)

    def entry(self, entry_id: int) -> Entry:
        return self.repository.get_entry(entry_id)

    def set_entry_enabled(self, entry_id: int, enabled: bool) -> Entry:
        entry = self.repository.set_entry_enabled(entry_id, enabled, self.clock.now())
        if enabled:
            self.matcher.apply_local(added=[entry_id])
        else:
            self.matcher.apply_local(removed=[entry_id])
        return entry

    def entries(self, bank_name: str, *, enabled_only: bool = False) -> Iterable[Entry]:
        return self.repository.iter_entries(self.bank(bank_name), enabled_only=enabled_only)

    def close(self) -> None:
        """Stop the background refresher of the bank snapshot."""
        self.matcher.stop()

    def refresh(self) -> None:
        """Apply every committed bank change now (after a transaction that changed banks).
        An index not loaded yet is left alone: it loads everything on first use."""
        if self.matcher.seq >= 0:
            self.matcher.refresh(force=True)

    # -- matching -----------------------------------------------------------------------------

    def query_hashes(self, image: bytes | Luma) -> tuple[pdq.PdqResult, list[QueryHash]]:
        """The plain hash of an upload and the eight mirror/rotation variants to look up."""
        luma = image if isinstance(image, Luma) else decode_luma(image, limits=self.limits)
        variants = pdq.transformed_hashes(luma)
        return variants[0], [QueryHash(v.hash, v.variant) for v in variants]

    def lookup_image(
        self, image: bytes | Image | Luma, *, banks: Iterable[str] | None = None
    ) -> Lookup:
        """Matches of the image; of every screened frame of an animated one (the hash and
        quality reported are the first frame's)."""
        lumas = [image] if isinstance(image, Luma) else frame_lumas(image, limits=self.limits)
        first: pdq.PdqResult | None = None
        matches: list[Match] = []
        suppressed: list[Match] = []
        for luma in lumas:
            plain, queries = self.query_hashes(luma)
            first = first or plain
            if plain.quality < self.min_quality:
                continue
            found = self.match(queries, banks=banks)
            frame = {"frame": luma.frame} if len(lumas) > 1 else {}
            matches += [replace(m, extra={**m.extra, **frame}) for m in found.matches]
            suppressed += [replace(m, extra={**m.extra, **frame}) for m in found.suppressed]
        assert first is not None
        return Lookup(tuple(matches), tuple(suppressed), first.hex, first.quality)

    def lookup_hash(self, hex_hash: str, *, banks: Iterable[str] | None = None) -> Lookup:
        parsed = Hash.parse(hex_hash)
        return replace(self.match([QueryHash(parsed)], banks=banks), hash=parsed.hex)

    def match(
        self,
        queries: Sequence[QueryHash],
        *,
        banks: Iterable[str] | None = None,
        raw: bool = False,
    ) -> Lookup:
        """Matches of any query hash in enabled banks, each within its bank's distance.

        ``raw`` skips enable/disable and negative banks (HMA's raw lookup), for debugging.
        """
        self.matcher.ensure_current()
        by_id = self.matcher.banks()
        wanted = None if banks is None else {check_bank_name(b) for b in banks}
        best: dict[int, tuple[int, str]] = {}
        for query in queries:
            for hit in self.matcher.search(query.hash.value):
                if hit.id not in best or hit.distance < best[hit.id][0]:
                    best[hit.id] = (hit.distance, query.variant)
        entries = self.repository.get_entries(list(best))
        bank_by_name = {b.name: b for b in by_id.values()}
        positive: list[Match] = []
        negative: list[Match] = []
        for entry_id, (distance, variant) in best.items():
            entry = entries.get(entry_id)
            bank = bank_by_name.get(entry.bank) if entry else None
            if entry is None or bank is None:
                continue
            if not raw and (not entry.enabled or not bank.enabled):
                continue
            if distance > bank.match_distance and not raw:
                continue
            match = Match(bank=bank, entry=entry, distance=distance, query_variant=variant)
            (negative if bank.negative and not raw else positive).append(match)
        if wanted is not None:
            positive = [m for m in positive if m.bank.name in wanted]
        positive.sort(key=lambda m: (m.distance, m.bank.name, m.entry.id))
        kept, suppressed = suppress(positive, negative)
        return Lookup(tuple(kept), tuple(suppressed), None, None)
