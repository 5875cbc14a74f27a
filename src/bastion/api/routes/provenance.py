"""POST /v1/outputs/mark and POST /v1/provenance/verify (JSON with base64, or multipart)."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bastion.api.deps import AnyKey, GuardDep, ServiceKey
from bastion.api.routes.generations import decode_base64, form_file, parse_model, read_json
from bastion.api.schemas import _Strict
from bastion.errors import InvalidInput, UnsupportedMediaType

router = APIRouter(prefix="/v1", tags=["provenance"])


class MarkRequest(_Strict):
    image: str = Field(description="The output image, base64-encoded (JPEG, PNG or WebP).")
    decision_id: str = Field(
        min_length=1, max_length=64, description="The output's allowed decision."
    )
    generator: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Name of the AI model for the C2PA manifest (default BASTION_GENERATOR_NAME).",
    )


class VerifyRequest(_Strict):
    image: str = Field(description="The image to inspect, base64-encoded.")


class WatermarkMarkOut(BaseModel):
    issuer: int
    output_id: str
    verified: bool = Field(description="The mark read back from the encoded output.")


class C2paMarkOut(BaseModel):
    manifest: str | None
    signer: str
    development_signer: bool


class MarkOut(BaseModel):
    image: str = Field(description="The marked image, base64-encoded.")
    media_type: str
    sha256: str
    bytes: int
    decision_id: str | None
    watermark: WatermarkMarkOut
    c2pa: C2paMarkOut


class WatermarkOut(BaseModel):
    detected: bool
    score: float
    statistic: float
    threshold: float
    p_value: float
    issuer: int | None
    output_id: str | None
    own_issuer: bool
    linked: bool
    decision_id: str | None


class SoftBindingOut(BaseModel):
    issuer: int
    output_id: str


class C2paOut(BaseModel):
    state: str = Field(description="valid | invalid | untrusted | absent")
    ai_generated: bool
    generator: str | None
    claim_generator: str | None
    signer: str | None
    signer_organisation: str | None
    soft_binding: SoftBindingOut | None
    manifest: str | None
    failures: list[str]
    note: str | None


class VerifyOut(BaseModel):
    media_type: str
    sha256: str
    width: int
    height: int
    watermark: WatermarkOut
    c2pa: C2paOut
    decision_id: str | None = Field(description="The output decision the watermark links to.")


def _request_body(model: type[BaseModel], fields: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for a body read by hand: JSON (base64 image) or multipart (image file)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": model.model_json_schema()},
                "multipart/form-data": {
                    "schema": {"type": "object", "required": ["image"], "properties": fields}
                },
            },
        }
    }


async def _body(request: Request, model: type[_Strict]) -> tuple[bytes, dict[str, str]]:
    """The image bytes and the other fields, from JSON (base64) or multipart."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                raise InvalidInput("multipart file field 'image' is required", field="image")
            data = await form_file(upload, "image")
            fields = {k: v for k, v in form.items() if k != "image" and isinstance(v, str)}
        unknown = sorted(set(fields) - set(model.model_fields))
        if unknown:
            raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
        parse_model(model, {**fields, "image": ""})
        return data, fields
    if content_type.startswith("application/json") or not content_type:
        body = parse_model(model, await read_json(request))
        fields = {k: v for k, v in body.model_dump(exclude_none=True).items() if k != "image"}
        return decode_base64(body.image, "image"), fields
    raise UnsupportedMediaType(
        f"unsupported content type {content_type!r}; send application/json or multipart/form-data"
    )


@router.post(
    "/outputs/mark",
    response_model=MarkOut,
    summary="Watermark and C2PA-sign an allowed output",
    openapi_extra=_request_body(
        MarkRequest,
        {
            "image": {"type": "string", "format": "binary"},
            "decision_id": {"type": "string"},
            "generator": {"type": "string"},
        },
    ),
)
async def mark_output(request: Request, guard: GuardDep, key: ServiceKey) -> Any:
    data, fields = await _body(request, MarkRequest)
    if not fields.get("decision_id"):
        raise InvalidInput("decision_id is required", field="decision_id")
    marked = await run_in_threadpool(
        guard.mark,
        data,
        fields["decision_id"],
        generator=fields.get("generator"),
        principal=key.id,
    )
    return {**marked.to_dict(), "image": base64.b64encode(marked.data).decode("ascii")}


@router.post(
    "/provenance/verify",
    response_model=VerifyOut,
    summary="Read an image's watermark and C2PA manifest",
    openapi_extra=_request_body(VerifyRequest, {"image": {"type": "string", "format": "binary"}}),
)
async def verify_image(request: Request, guard: GuardDep, _key: AnyKey) -> Any:
    data, _ = await _body(request, VerifyRequest)
    report = await run_in_threadpool(guard.verify, data)
    return report.to_dict()
