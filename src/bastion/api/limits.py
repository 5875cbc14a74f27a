"""Request size limit as pure ASGI middleware: refuses oversized bodies with 413 before they
are read into memory, whether or not the client sent Content-Length."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.api.errors import error_body


class BodyRefused(HTTPException):
    """Raised from a middleware's wrapped ``receive`` to refuse a request body. An
    HTTPException, so FastAPI's body parsing passes it through; :func:`run_guarded` answers it
    when it reaches the middleware before a response started."""

    code = "invalid_request"


class _TooLarge(BodyRefused):
    code = "input_too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body is larger than {max_bytes} bytes")


async def run_guarded(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run ``app`` with a wrapped ``receive``; a :class:`BodyRefused` it raises becomes the
    typed error reply (unless the app already started its response)."""
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, receive, tracking_send)
    except BodyRefused as exc:
        if not started:
            await reply(send, exc.status_code, error_body(exc.code, exc.detail), exc.headers)


async def reply(
    send: Send, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> None:
    """Send a JSON response from a pure ASGI middleware."""
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                await reply(send, 400, error_body("invalid_request", "bad Content-Length"))
                return
            if too_big:
                await reply(send, 413, self._body())
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        await run_guarded(self.app, scope, limited_receive, send)

    def _body(self) -> dict[str, Any]:
        return error_body("input_too_large", f"request body is larger than {self.max_bytes} bytes")
