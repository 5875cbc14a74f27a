"""Every error leaves the API in one shape: ``{"error": {"code", "message", "field"}}``.

Typed BastionErrors keep their status (4xx for anything a caller can cause, 503 with
``Retry-After`` while the database is unavailable); request
validation errors are 422; anything unexpected is logged and answered with a generic 500 that
leaks nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bastion.errors import BastionError

log = logging.getLogger("bastion.api")


# An error never echoes more than a short excerpt of what the client sent.
MAX_MESSAGE = 300
MAX_FIELD = 100


def _excerpt(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": _excerpt(message, MAX_MESSAGE),
            "field": None if field is None else _excerpt(field, MAX_FIELD),
        }
    }


def _location(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


async def _bastion_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BastionError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 503:  # the database is failing: the caller may try again shortly
        headers = {"Retry-After": "1"}
        log.warning("%s while serving %s: %s", exc.code, request.url.path, exc.message)
    elif exc.status >= 500:
        log.error("configuration error while serving %s: %s", request.url.path, exc.message)
    return JSONResponse(
        error_body(exc.code, exc.message, exc.field), status_code=exc.status, headers=headers
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"msg": "invalid request", "loc": ()}
    message = "; ".join(
        f"{_location(tuple(e.get('loc', ()))) or 'body'}: {e.get('msg', 'invalid')}"
        for e in errors[:5]
    )
    code = "invalid_json" if first.get("type") == "json_invalid" else "invalid_input"
    return JSONResponse(
        error_body(code, message, _location(tuple(first.get("loc", ())))), status_code=422
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {
        404: "not_found",
        405: "method_not_allowed",
        408: "request_timeout",
        413: "input_too_large",
    }.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error while serving %s", request.url.path)
    return JSONResponse(error_body("internal_error", "internal error"), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(BastionError, _bastion_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
