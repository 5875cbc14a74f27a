"""POST /v1/generations/check — JSON (base64 images) or multipart (image files)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from bastion.api.deps import GuardDep, ServiceKey
from bastion.api.parsing import PARSED, loads
from bastion.api.schemas import CheckContext, DecisionOut, GenerationCheck
from bastion.errors import InvalidInput, UnsupportedMediaType

router = APIRouter(prefix="/v1", tags=["generation"])

MAX_IMAGES = 8


def decode_base64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{field} is not valid base64: {exc}", field=field) from exc


def parse_model(model: type[Any], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        raise InvalidInput(f"{where or 'body'}: {first['msg']}", field=where) from exc


async def read_json(request: Request) -> Any:
    """The JSON body, within the limits of :func:`bastion.api.parsing.loads` (parsed once:
    the JSON guard middleware keeps what it parsed)."""
    if PARSED in request.scope:
        return request.scope[PARSED]
    return loads(await request.body())


async def form_file(upload: UploadFile, field: str) -> bytes:
    data = await upload.read()
    if not data:
        raise InvalidInput(f"{field} is empty", field=field)
    return data


@router.post(
    "/generations/check",
    response_model=DecisionOut,
    summary="Screen a generation request before the image model runs",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": GenerationCheck.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["prompt"],
                        "properties": {
                            "prompt": {"type": "string"},
                            "images": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                            "context": {"type": "string", "description": "JSON object"},
                        },
                    }
                },
            },
            "required": True,
        }
    },
)
async def check_generation(request: Request, guard: GuardDep, key: ServiceKey) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        async with request.form(max_files=MAX_IMAGES, max_fields=10) as form:
            prompt, images, context = await _from_form(form)
    elif content_type.startswith("application/json") or not content_type:
        body = parse_model(GenerationCheck, await read_json(request))
        prompt = body.prompt
        images = [decode_base64(v, f"images[{i}]") for i, v in enumerate(body.images)]
        context = body.context.as_dict() if body.context else None
    else:
        raise UnsupportedMediaType(
            f"unsupported content type {content_type!r}; "
            "send application/json or multipart/form-data"
        )
    decision = await _run(guard, prompt, images, context, key.id)
    return decision.to_dict()


async def _from_form(form: Any) -> tuple[str, list[bytes], dict[str, Any] | None]:
    prompt = form.get("prompt")
    if not isinstance(prompt, str):
        raise InvalidInput("multipart field 'prompt' (text) is required", field="prompt")
    images = []
    for index, value in enumerate(form.getlist("images")):
        if not isinstance(value, UploadFile):
            raise InvalidInput("'images' must be file parts", field=f"images[{index}]")
        images.append(await form_file(value, f"images[{index}]"))
    raw_context = form.get("context")
    if raw_context is None:
        return prompt, images, None
    if not isinstance(raw_context, str):
        raise InvalidInput("'context' must be a JSON text field", field="context")
    try:
        context_data = json.loads(raw_context)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"context is not valid JSON: {exc.msg}", field="context") from exc
    return prompt, images, parse_model(CheckContext, context_data).as_dict()


async def _run(guard: Any, prompt: str, images: list[bytes], context: Any, principal: str) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        guard.check_generation, prompt, images, context=context, principal=principal
    )
