"""Banks, lookups and upload scans under /v1 (HMA-compatible routes are in ``hma.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bastion.api.deps import AnyKey, GuardDep, ServiceKey, check_bank_reader, require
from bastion.api.parsing import RowId
from bastion.api.routes.generations import decode_base64, parse_model, read_json
from bastion.api.schemas import CheckContext, DecisionOut, _Strict
from bastion.errors import InvalidInput, UnsupportedMediaType
from bastion.hashing import exchange
from bastion.hashing.model import EntryInput
from bastion.storage.keys import ApiKey, Role

router = APIRouter(prefix="/v1", tags=["banks"])
CuratorKey = Annotated[ApiKey, Depends(require(Role.CHILD_SAFETY))]
MAX_IMPORT_LINES = 5_000_000


class BankCreate(_Strict):
    name: str = Field(description="lower_snake name (a storage key)")
    kind: str = Field(
        default="other",
        description="csam | ncii | blocked_generations | removed_content | terrorism | "
        "false_positives | other",
    )
    match_distance: int = Field(default=31, ge=0, le=31)
    negative: bool = Field(default=False, description="Known false positives: suppress matches")
    enabled: bool = True
    description: str = Field(default="", max_length=2000)


class BankUpdate(_Strict):
    enabled: bool | None = None
    match_distance: int | None = Field(default=None, ge=0, le=31)
    description: str | None = Field(default=None, max_length=2000)


class EntryCreate(_Strict):
    hash: str = Field(description="PDQ hash, 64 hex characters")
    signal_type: str = "pdq"
    quality: int | None = Field(default=None, ge=0, le=100)
    source: str = Field(default="api", max_length=200)
    labels: list[str] = Field(default_factory=list, max_length=50)
    case_id: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)


class EntryUpdate(_Strict):
    enabled: bool


class LookupBody(_Strict):
    hash: str | None = None
    image: str | None = Field(default=None, description="base64 image instead of a hash")
    banks: list[str] | None = None


class ScanBody(_Strict):
    image: str = Field(description="The uploaded image, base64-encoded")
    context: CheckContext | None = None


def _actor(key: ApiKey) -> str:
    return f"api_key:{key.id}"


def _bank_dict(guard: Any, bank: Any) -> dict[str, Any]:
    counts = guard.banks.repository.entry_counts().get(bank.id, (0, 0))
    return {**bank.to_dict(), "entries": counts[0], "enabled_entries": counts[1]}


async def upload_bytes(request: Request, field: str = "image") -> tuple[bytes, dict[str, str]]:
    """One image from multipart (any single file part), raw image/* body, or nothing."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=20) as form:
            files = [(k, v) for k, v in form.multi_items() if isinstance(v, UploadFile)]
            fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
            if len(files) != 1:
                raise InvalidInput("send exactly one image file part", field=field)
            data = await files[0][1].read()
        if not data:
            raise InvalidInput("the image file is empty", field=field)
        return data, fields
    if content_type.startswith(("image/", "application/octet-stream")):
        data = await request.body()
        if not data:
            raise InvalidInput("the request body is empty", field=field)
        return data, {}
    raise UnsupportedMediaType(
        f"unsupported content type {content_type!r}; send multipart/form-data or image/*"
    )


@router.get("/banks", summary="List banks with entry counts")
def list_banks(guard: GuardDep, _key: AnyKey) -> list[dict[str, Any]]:
    return [_bank_dict(guard, b) for b in guard.banks.banks()]


@router.post("/banks", status_code=201, summary="Create a bank")
def create_bank(body: BankCreate, guard: GuardDep, _key: CuratorKey) -> dict[str, Any]:
    bank = guard.banks.create_bank(
        body.name,
        body.kind,
        match_distance=body.match_distance,
        negative=body.negative,
        enabled=body.enabled,
        description=body.description,
    )
    return _bank_dict(guard, bank)


@router.get("/banks/{name}", summary="A bank")
def get_bank(name: str, guard: GuardDep, _key: AnyKey) -> dict[str, Any]:
    return _bank_dict(guard, guard.banks.bank(name))


@router.patch("/banks/{name}", summary="Enable/disable a bank or change its match distance")
def update_bank(name: str, body: BankUpdate, guard: GuardDep, _key: CuratorKey) -> dict[str, Any]:
    bank = guard.banks.update_bank(
        name, enabled=body.enabled, match_distance=body.match_distance, description=body.description
    )
    return _bank_dict(guard, bank)


@router.post("/banks/{name}/entries", status_code=201, summary="Add a hash, or an image's hash")
async def add_entry(name: str, request: Request, guard: GuardDep, key: CuratorKey) -> Any:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = parse_model(EntryCreate, await read_json(request))
        item = EntryInput(
            hash=body.hash,
            signal_type=body.signal_type,
            quality=body.quality,
            source=body.source,
            labels=tuple(body.labels),
            case_id=body.case_id,
            note=body.note,
        )
        entries = await run_in_threadpool(guard.banks.add, name, [item], added_by=_actor(key))
        return entries[0].to_dict()
    data, fields = await upload_bytes(request)
    meta: dict[str, Any] = {
        "source": fields.get("source") or "api",
        "labels": tuple(fields.get("labels", "").replace(";", " ").split()),
        "case_id": fields.get("case_id") or None,
        "note": fields.get("note") or None,
    }
    entry = await run_in_threadpool(
        lambda: guard.banks.add_image(name, data, added_by=_actor(key), **meta)
    )
    return entry.to_dict()


@router.get("/banks/{name}/entries", summary="Entries as JSON pages, or an export (format=)")
def list_entries(
    name: str,
    guard: GuardDep,
    key: AnyKey,
    format: Annotated[str | None, Query(pattern="^(csv|tsv|txt)$")] = None,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    bank = guard.banks.bank(name)
    check_bank_reader(bank.kind.value, bank.name, key)
    entries = guard.banks.entries(name)
    if format is not None:
        media = {"csv": "text/csv", "tsv": "text/tab-separated-values", "txt": "text/plain"}
        chunks = exchange.iter_export(entries, exchange.Format(format))
        return StreamingResponse(chunks, media_type=f"{media[format]}; charset=utf-8")
    page = []
    for entry in entries:
        if entry.id <= after:
            continue
        page.append(entry.to_dict())
        if len(page) >= limit:
            break
    return {"entries": page, "next_after": page[-1]["id"] if len(page) == limit else None}


@router.post("/banks/{name}/import", summary="Bulk import a hash list (CSV, TSV or text)")
async def import_entries(
    name: str,
    request: Request,
    guard: GuardDep,
    key: CuratorKey,
    format: Annotated[str, Query(pattern="^(csv|tsv|txt)$")] = "txt",
    source: Annotated[str, Query(max_length=200)] = "import",
) -> dict[str, Any]:
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the hash list is not UTF-8 (byte {exc.start})") from exc
    lines = text.splitlines()
    if len(lines) > MAX_IMPORT_LINES:
        raise InvalidInput(f"more than {MAX_IMPORT_LINES} lines; split the file")
    items = list(exchange.read_entries(lines, exchange.Format(format), source=source))
    count = await run_in_threadpool(guard.banks.import_entries, name, items, added_by=_actor(key))
    return {"bank": name, "imported": count}


@router.get("/entries/{entry_id}", summary="A bank entry with its metadata")
def get_entry(entry_id: RowId, guard: GuardDep, key: AnyKey) -> dict[str, Any]:
    entry = guard.banks.entry(entry_id)
    check_bank_reader(guard.banks.bank(entry.bank).kind.value, entry.bank, key)
    return entry.to_dict()


@router.patch("/entries/{entry_id}", summary="Disable or re-enable an entry (never deleted)")
def update_entry(
    entry_id: RowId, body: EntryUpdate, guard: GuardDep, _key: CuratorKey
) -> dict[str, Any]:
    return guard.banks.set_entry_enabled(entry_id, body.enabled).to_dict()


@router.get("/lookup", summary="Look up a hash in every enabled bank")
def lookup_get(
    guard: GuardDep,
    _key: ServiceKey,
    hash: Annotated[str, Query(description="PDQ hash, 64 hex characters")],
    banks: Annotated[str | None, Query(description="Comma-separated bank names")] = None,
) -> dict[str, Any]:
    wanted = banks.split(",") if banks else None
    return guard.banks.lookup_hash(hash, banks=wanted).to_dict()


@router.post("/lookup", summary="Look up a hash (JSON) or an image (JSON base64 or multipart)")
async def lookup_post(request: Request, guard: GuardDep, _key: ServiceKey) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = parse_model(LookupBody, await read_json(request))
        if (body.hash is None) == (body.image is None):
            raise InvalidInput("give exactly one of 'hash' and 'image'")
        if body.hash is not None:
            found = guard.banks.lookup_hash(body.hash, banks=body.banks)
        else:
            data = decode_base64(body.image or "", "image")
            found = await run_in_threadpool(guard.banks.lookup_image, data, banks=body.banks)
        return found.to_dict()
    data, fields = await upload_bytes(request)
    wanted = fields["banks"].split(",") if fields.get("banks") else None
    found = await run_in_threadpool(guard.banks.lookup_image, data, banks=wanted)
    return found.to_dict()


@router.post(
    "/uploads/scan",
    response_model=DecisionOut,
    summary="Scan an upload against every enabled bank and decide by policy",
)
async def scan_upload(request: Request, guard: GuardDep, key: ServiceKey) -> Any:
    context = None
    if request.headers.get("content-type", "").startswith("application/json"):
        body = parse_model(ScanBody, await read_json(request))
        data = decode_base64(body.image, "image")
        context = body.context.as_dict() if body.context else None
    else:
        data, _ = await upload_bytes(request)
    decision = await run_in_threadpool(guard.scan_upload, data, context=context, principal=key.id)
    return decision.to_dict()
