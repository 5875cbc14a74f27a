"""HMA-compatible routes (OpenMediaMatch's /h, /m and /c), so a client of Meta's
Hasher-Matcher-Actioner can switch to Bastion by changing its base URL — and adding an API key
(``Authorization: Bearer`` or ``X-API-Key``), which HMA leaves to a reverse proxy.

Same paths, parameters and response shapes; differences are documented in docs/hashing.md:
fetching by ``url`` is refused (Bastion never fetches URLs: no SSRF surface), banks are on or
off (``matching_enabled_ratio`` is 0.0 or 1.0), bank names are lower-case, entries are
disabled rather than deleted, and errors use Bastion's ``{"error": {...}}`` body.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bastion.api.deps import AnyKey, GuardDep, ServiceKey, check_bank_reader, require
from bastion.api.parsing import RowId
from bastion.api.routes.banks import upload_bytes
from bastion.api.routes.generations import parse_model, read_json
from bastion.api.schemas import _Strict
from bastion.errors import InvalidInput, NotFound
from bastion.hashing.banks import QueryHash
from bastion.hashing.model import Bank, Entry, EntryInput
from bastion.hashing.signals import Hash
from bastion.storage.keys import ApiKey, Role

router = APIRouter(tags=["hma-compatible"])
CuratorKey = Annotated[ApiKey, Depends(require(Role.CHILD_SAFETY))]
NO_URLS = "fetching content by url is not supported; upload the file as multipart/form-data"


class HmaBankCreate(_Strict):
    name: str
    enabled_ratio: float | None = None
    enabled: bool | None = None


class HmaBankUpdate(_Strict):
    name: str | None = None
    enabled_ratio: float | None = None
    enabled: bool | None = None


class HmaContentUpdate(_Strict):
    disable_until_ts: int | None = None


def _enabled(ratio: float | None, enabled: bool | None) -> bool | None:
    if ratio is not None:
        if ratio not in (0.0, 1.0):
            raise InvalidInput(
                "Bastion banks are on or off: enabled_ratio must be 0.0 or 1.0",
                field="enabled_ratio",
            )
        return ratio == 1.0
    return enabled


def _config(bank: Bank) -> dict[str, Any]:
    return {"name": bank.name, "matching_enabled_ratio": 1.0 if bank.enabled else 0.0}


def _content(entry: Entry, bank: Bank, signals: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entry.id,
        "disable_until_ts": 1 if entry.enabled else 0,
        "original_media_uri": None,
        "bank": _config(bank),
    }
    if signals:
        out["signals"] = {entry.signal_type.value: entry.hash}
    out["metadata"] = {
        "content_id": entry.case_id,
        "json": {k: v for k, v in entry.metadata().items() if v not in (None, [])},
    }
    if entry.note:
        out["note"] = entry.note
    return out


def _signal_type(name: str | None) -> str:
    if name is not None and name != "pdq":
        raise InvalidInput(f"No such SignalType '{name}'", field="signal_type")
    return "pdq"


def _by_bank(matches: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for match in matches:
        out.setdefault(match.bank.name, []).append(
            {"bank_content_id": match.entry.id, "distance": str(match.distance)}
        )
    return out


def _banks(value: str | None) -> list[str] | None:
    return [b for b in value.split(",") if b] if value else None


# -- /h: hashing --------------------------------------------------------------------------------


@router.get("/h/hash", summary="HMA: hash content by URL (refused: upload instead)")
def hash_get(_key: ServiceKey, url: str | None = None) -> dict[str, str]:
    raise InvalidInput(NO_URLS, field="url")


@router.post("/h/hash", summary='HMA: hash an uploaded file → {"pdq": hex}')
async def hash_post(request: Request, guard: GuardDep, _key: ServiceKey) -> dict[str, str]:
    data, _ = await upload_bytes(request, field="photo")
    plain, _ = await run_in_threadpool(guard.banks.query_hashes, data)
    return {"pdq": plain.hex}


# -- /m: matching -------------------------------------------------------------------------------


@router.get("/m/lookup", summary="HMA: look up a hash → {bank: [{bank_content_id, distance}]}")
def lookup_get(
    guard: GuardDep,
    _key: ServiceKey,
    signal: str | None = None,
    signal_type: str | None = None,
    url: str | None = None,
    banks: str | None = None,
    seed: str | None = None,
    bypass_coinflip: bool = False,
) -> dict[str, Any]:
    if url:
        raise InvalidInput(NO_URLS, field="url")
    if not signal or not signal_type:
        raise InvalidInput("Either url or both signal and signal_type are required")
    _signal_type(signal_type)
    found = guard.banks.match([QueryHash(Hash.parse(signal))], banks=_banks(banks))
    return _by_bank(found.matches)


@router.post("/m/lookup", summary="HMA: hash and look up an uploaded file → {pdq: {bank: [...]}}")
async def lookup_post(
    request: Request, guard: GuardDep, _key: ServiceKey, banks: str | None = None
) -> dict[str, Any]:
    data, _ = await upload_bytes(request, field="photo")
    found = await run_in_threadpool(guard.banks.lookup_image, data, banks=_banks(banks))
    return {"pdq": _by_bank(found.matches)}


@router.get("/m/raw_lookup", summary="HMA: index lookup ignoring enable/disable")
def raw_lookup(
    guard: GuardDep,
    _key: ServiceKey,
    signal: str,
    signal_type: str,
    banks: str | None = None,
    include_distance: bool = False,
) -> dict[str, Any]:
    _signal_type(signal_type)
    found = guard.banks.match([QueryHash(Hash.parse(signal))], raw=True)
    wanted = set(_banks(banks) or [])
    matches = [m for m in found.matches if not wanted or m.bank.name in wanted]
    if include_distance:
        return {
            "matches": [
                {"bank_content_id": m.entry.id, "distance": str(m.distance)} for m in matches
            ]
        }
    return {"matches": [m.entry.id for m in matches]}


@router.get("/m/index/status", summary="HMA: index status")
def index_status(guard: GuardDep, _key: AnyKey) -> dict[str, Any]:
    matcher = guard.banks.matcher
    matcher.ensure_current()
    return {
        "pdq": {
            "built_to": matcher.seq,
            "present": True,
            "size": len(matcher),
            "checked_at": int(time.time()),
        }
    }


# -- /c: curation -------------------------------------------------------------------------------


@router.get("/c/banks", summary="HMA: list banks")
def banks_index(guard: GuardDep, _key: AnyKey) -> list[dict[str, Any]]:
    return [_config(b) for b in guard.banks.banks()]


@router.post("/c/banks", status_code=201, summary="HMA: create a bank")
def bank_create(body: HmaBankCreate, guard: GuardDep, _key: CuratorKey) -> dict[str, Any]:
    enabled = _enabled(body.enabled_ratio, body.enabled)
    bank = guard.banks.create_bank(body.name, enabled=True if enabled is None else enabled)
    return _config(bank)


@router.get("/c/bank/{bank_name}", summary="HMA: a bank")
def bank_show(bank_name: str, guard: GuardDep, _key: AnyKey) -> dict[str, Any]:
    return _config(guard.banks.bank(bank_name))


@router.put("/c/bank/{bank_name}", summary="HMA: update a bank (renaming is not supported)")
def bank_update(
    bank_name: str, body: HmaBankUpdate, guard: GuardDep, _key: CuratorKey
) -> dict[str, Any]:
    current = guard.banks.bank(bank_name)
    if body.name is not None and body.name.lower() != current.name:
        raise InvalidInput("bank names are storage keys and cannot be renamed", field="name")
    bank = guard.banks.update_bank(bank_name, enabled=_enabled(body.enabled_ratio, body.enabled))
    return _config(bank)


@router.delete("/c/bank/{bank_name}", summary="HMA: delete a bank (Bastion disables it)")
def bank_delete(bank_name: str, guard: GuardDep, _key: CuratorKey) -> dict[str, str]:
    guard.banks.update_bank(bank_name, enabled=False)
    return {"message": "Done (bank disabled; Bastion keeps bank history)"}


def _entry_in(guard: Any, bank_name: str, content_id: int) -> tuple[Entry, Bank]:
    bank = guard.banks.bank(bank_name)
    entry = guard.banks.entry(content_id)
    if entry.bank != bank.name:
        raise NotFound(f"content '{content_id}' not found", field="content_id")
    return entry, bank


@router.get("/c/bank/{bank_name}/content/{content_id}", summary="HMA: a bank content item")
def content_get(
    bank_name: str,
    content_id: RowId,
    guard: GuardDep,
    key: AnyKey,
    include_signals: bool = False,
) -> dict[str, Any]:
    entry, bank = _entry_in(guard, bank_name, content_id)
    check_bank_reader(bank.kind.value, bank.name, key)
    return _content(entry, bank, include_signals)


@router.post(
    "/c/bank/{bank_name}/content", status_code=201, summary="HMA: add an uploaded file to a bank"
)
async def content_add(
    bank_name: str, request: Request, guard: GuardDep, key: CuratorKey
) -> dict[str, Any]:
    if request.query_params.get("url"):
        raise InvalidInput(NO_URLS, field="url")
    data, fields = await upload_bytes(request, field="photo")
    meta: dict[str, Any] = {"source": "hma_api", "note": fields.get("note") or None}
    if fields.get("metadata"):
        try:
            metadata = json.loads(fields["metadata"])
        except json.JSONDecodeError as exc:
            raise InvalidInput("metadata form field must be valid JSON", field="metadata") from exc
        if not isinstance(metadata, dict):
            raise InvalidInput("metadata should be a json object", field="metadata")
        if metadata.get("content_id") is not None:
            meta["case_id"] = str(metadata["content_id"])[:64]
    entry = await run_in_threadpool(
        lambda: guard.banks.add_image(bank_name, data, added_by=f"api_key:{key.id}", **meta)
    )
    return {"id": entry.id, "signals": {"pdq": entry.hash}}


@router.post(
    "/c/bank/{bank_name}/signal", status_code=201, summary="HMA: add hashes to a bank directly"
)
async def signal_add(
    bank_name: str, request: Request, guard: GuardDep, key: CuratorKey
) -> dict[str, Any]:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise InvalidInput('expected a JSON object like {"pdq": "<hash>"}')
    note = data.pop("note", None)
    if note is not None and (not isinstance(note, str) or len(note) > 255):
        raise InvalidInput("note must be a string of at most 255 characters", field="note")
    if set(data) != {"pdq"}:
        raise InvalidInput("No signals given" if not data else "only pdq signals are supported")
    item = EntryInput(hash=str(data["pdq"]), source="hma_api", note=note)
    entry = guard.banks.add(bank_name, [item], added_by=f"api_key:{key.id}")[0]
    return {"id": entry.id, "signals": {"pdq": entry.hash}}


@router.put("/c/bank/{bank_name}/content/{content_id}", summary="HMA: enable/disable content")
async def content_update(
    bank_name: str, content_id: RowId, request: Request, guard: GuardDep, _key: CuratorKey
) -> dict[str, Any]:
    body = parse_model(HmaContentUpdate, await read_json(request))
    entry, bank = _entry_in(guard, bank_name, content_id)
    if body.disable_until_ts is not None:
        if body.disable_until_ts < 0:
            raise InvalidInput("disable_until_ts must be a non-negative integer")
        # HMA: 1 means enabled; 0 or a timestamp means disabled (until then).
        entry = guard.banks.set_entry_enabled(content_id, body.disable_until_ts == 1)
    return _content(entry, bank, False)


@router.delete("/c/bank/{bank_name}/content/{content_id}", summary="HMA: delete (disables)")
def content_delete(
    bank_name: str, content_id: RowId, guard: GuardDep, _key: CuratorKey
) -> JSONResponse:
    _entry_in(guard, bank_name, content_id)
    guard.banks.set_entry_enabled(content_id, False)
    return JSONResponse({"deleted": 0, "disabled": 1})
