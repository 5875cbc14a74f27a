"""``Idempotency-Key`` on POST requests: a retried request replays the first response.

Scope: the key belongs to the caller (an API key, else the client address). The first
request with a key takes it in the database (a row under a unique key, so racing duplicates
collide there and only one runs); the others wait for it and replay its status and body.
The same key with a different request (method, path, query, body) is refused with 422
``idempotency_key_reused``. Only successful (2xx) responses are kept; after an error the key
is released so the corrected request may use it. Keys expire after
``BASTION_IDEMPOTENCY_TTL_HOURS``; a key whose first request died unfinished is taken over
after a lease of ``LEASE_S``.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.api.errors import error_body
from bastion.api.intake import bearer, client_address, key_scope
from bastion.api.limits import reply
from bastion.storage import idempotency as repo

HEADER = b"idempotency-key"
LEASE_S = 60
WAIT_S = 10.0
MAX_STORED_BYTES = 1024 * 1024


def _valid(key: str) -> bool:
    return 1 <= len(key) <= 200 and all(33 <= ord(c) <= 126 for c in key)


class Idempotency:
    def __init__(self, app: ASGIApp, ttl_hours: int) -> None:
        self.app = app
        self.ttl = timedelta(hours=ttl_hours)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        raw = headers.get(HEADER)
        if scope["type"] != "http" or scope["method"] != "POST" or raw is None:
            await self.app(scope, receive, send)
            return
        key = raw.decode("latin-1")
        if not _valid(key):
            text = "Idempotency-Key must be 1-200 printable ASCII characters"
            await reply(send, 422, error_body("invalid_idempotency_key", text, "Idempotency-Key"))
            return
        body = await _read_body(receive)
        clear = bearer(scope)
        owner = key_scope(clear) if clear else f"addr:{client_address(scope)}"
        digest = hashlib.sha256()
        for part in (scope["method"], scope["path"], scope.get("query_string", b"").decode()):
            digest.update(part.encode() + b"\0")
        digest.update(headers.get(b"content-type", b"") + b"\0" + body)
        request_hash = digest.hexdigest()
        guard = scope["app"].state.guard
        loop = asyncio.get_running_loop()
        give_up = loop.time() + WAIT_S
        while True:
            held = await run_in_threadpool(self._take, guard, owner, key, request_hash)
            if held is None:
                break
            if held.request_hash != request_hash:
                text = "this Idempotency-Key was used for a different request"
                await reply(
                    send, 422, error_body("idempotency_key_reused", text, "Idempotency-Key")
                )
                return
            if held.status is not None:
                await _replay(send, held)
                return
            if loop.time() > give_up:
                text = "the first request with this Idempotency-Key is still running"
                await reply(
                    send, 409, error_body("idempotency_in_progress", text), {"retry-after": "1"}
                )
                return
            await asyncio.sleep(0.05)
        await self._run(scope, receive, send, body, guard, owner, key, request_hash)

    def _take(self, guard: Any, owner: str, key: str, request_hash: str) -> repo.Stored | None:
        now = guard.clock.now()
        with guard.db.begin() as conn:
            return repo.take(
                conn,
                scope=owner,
                key=key,
                request_hash=request_hash,
                now=now,
                expires_at=now + self.ttl,
                locked_until=now + timedelta(seconds=LEASE_S),
            )

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        body: bytes,
        guard: Any,
        owner: str,
        key: str,
        request_hash: str,
    ) -> None:
        given = False
        status = 0
        content_type = "application/json"
        chunks: list[bytes] = []
        size = 0

        async def replay_receive() -> Message:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            nonlocal status, content_type, size
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= MAX_STORED_BYTES:
                    chunks.append(chunk)
            await send(message)

        def settle() -> None:
            with guard.db.begin() as conn:
                if 200 <= status < 300 and size <= MAX_STORED_BYTES:
                    text = b"".join(chunks).decode("utf-8", "replace")
                    repo.finish(
                        conn, owner, key, status=status, content_type=content_type, body=text
                    )
                else:
                    repo.release(conn, owner, key, request_hash)

        try:
            await self.app(scope, replay_receive, capture)
        finally:
            await run_in_threadpool(settle)


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _replay(send: Send, held: repo.Stored) -> None:
    payload = (held.body or "").encode()
    await send(
        {
            "type": "http.response.start",
            "status": held.status,
            "headers": [
                (b"content-type", (held.content_type or "application/json").encode("latin-1")),
                (b"content-length", str(len(payload)).encode()),
                (b"idempotent-replayed", b"true"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
