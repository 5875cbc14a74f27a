"""Typed edges for JSON bodies: every malformed input is a typed 4xx before a route sees it.

:func:`loads` parses untrusted JSON within limits — nesting depth, integer digits, no NaN or
Infinity, no lone surrogates (text that cannot be stored or sent back as UTF-8) — and raises
:class:`~bastion.errors.InvalidInput` naming the problem. :class:`JsonGuard` applies it to
every JSON request body, so routes that parse by hand and routes with pydantic body models
alike never meet a body that would crash the parser, the database or the response encoder.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.api.errors import error_body
from bastion.api.limits import reply
from bastion.errors import InvalidInput

MAX_DEPTH = 32
MAX_INT_DIGITS = 40  # far beyond any id, count or limit a route takes
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PARSED = "bastion.json"  # scope key: the parsed body, so read_json does not parse twice
# A database row id in a path: a 64-bit signed integer, validated before the database sees it.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="A bank entry id.")]


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidInput(f"an integer in the body has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not valid JSON")


def loads(body: bytes) -> Any:
    """The parsed body, or InvalidInput (code ``invalid_input``) saying what is wrong."""
    try:
        value = json.loads(body, parse_int=_integer, parse_constant=_constant)
    except RecursionError:
        raise InvalidInput(f"JSON nested more than {MAX_DEPTH} levels deep") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"request body is not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:  # e.g. a float or integer Python refuses to convert
        raise InvalidInput(f"invalid JSON value: {str(exc)[:80]}") from None
    check(value)
    return value


def check(value: Any) -> None:
    """Depth and text checks over a parsed value (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidInput(
                f"JSON nested more than {MAX_DEPTH} levels deep", field=where or None
            )
        if isinstance(item, str):
            _text(item, where)
        elif isinstance(item, dict):
            for key, sub in item.items():
                _text(key, where)
                stack.append((sub, depth + 1, f"{where}.{key}" if where else str(key)))
        elif isinstance(item, list):
            stack.extend((sub, depth + 1, f"{where}[{i}]") for i, sub in enumerate(item))


def _text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            f"text contains a lone surrogate (\\u{ord(text[exc.start]):04x}); send valid Unicode",
            field=where[:100] or None,
        ) from None


class JsonGuard:
    """Pure ASGI middleware: parse every JSON request body with :func:`loads` first; a bad body
    is answered 422 at once, a good one is replayed to the route (and kept in the scope)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        content_type = dict(scope.get("headers", ())).get(b"content-type", b"").decode("latin-1")
        # Only declared JSON: a body without a content type may be text (bank imports); the
        # routes that read such a body as JSON parse it with loads() themselves.
        if not content_type.lower().startswith("application/json"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client left; let the app see it
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            try:
                scope[PARSED] = loads(body)
            except InvalidInput as exc:
                await reply(send, 422, error_body(exc.code, exc.message, exc.field))
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
