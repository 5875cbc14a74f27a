"""POST /v1/outputs/check — a generated image, JSON (base64) or multipart (file), optionally
with the id of its generation decision (``request_id``) for the edit-delta."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bastion.api.deps import GuardDep, ServiceKey
from bastion.api.routes.generations import decode_base64, form_file, parse_model, read_json
from bastion.api.schemas import CheckContext, DecisionOut, OutputCheck
from bastion.errors import InvalidInput, NotFound, UnsupportedMediaType
from bastion.guard import Guard
from bastion.policy.model import Decision

router = APIRouter(prefix="/v1", tags=["generation"])


@router.post(
    "/outputs/check",
    response_model=DecisionOut,
    summary="Screen a generated image after the model ran (with its generation decision)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": OutputCheck.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["image"],
                        "properties": {
                            "image": {"type": "string", "format": "binary"},
                            "request_id": {"type": "string"},
                            "context": {"type": "string", "description": "JSON object"},
                        },
                    }
                },
            },
            "required": True,
        }
    },
)
async def check_output(request: Request, guard: GuardDep, key: ServiceKey) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=5) as form:
            image, request_id, context = await _from_form(form)
    elif content_type.startswith("application/json") or not content_type:
        body = parse_model(OutputCheck, await read_json(request))
        image = decode_base64(body.image, "image")
        request_id = body.request_id
        context = body.context.as_dict() if body.context else None
    else:
        raise UnsupportedMediaType(
            f"unsupported content type {content_type!r}; "
            "send application/json or multipart/form-data"
        )
    decision = await run_in_threadpool(_check, guard, image, request_id, context, key.id)
    return decision.to_dict()


def _check(
    guard: Guard,
    image: bytes,
    request_id: str | None,
    context: dict[str, Any] | None,
    principal: str,
) -> Decision:
    generation = None
    if request_id:
        try:
            generation = guard.get_decision(request_id)
        except NotFound as exc:
            exc.field = "request_id"
            raise
    return guard.check_output(image, request=generation, context=context, principal=principal)


async def _from_form(form: Any) -> tuple[bytes, str | None, dict[str, Any] | None]:
    upload = form.get("image")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("multipart file part 'image' is required", field="image")
    image = await form_file(upload, "image")
    request_id = form.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or len(request_id) > 64):
        raise InvalidInput("'request_id' must be a decision id (text)", field="request_id")
    raw_context = form.get("context")
    if raw_context is None:
        return image, request_id or None, None
    if not isinstance(raw_context, str):
        raise InvalidInput("'context' must be a JSON text field", field="context")
    try:
        context_data = json.loads(raw_context)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"context is not valid JSON: {exc.msg}", field="context") from exc
    return image, request_id or None, parse_model(CheckContext, context_data).as_dict()
