"""Bounded intake for the HTTP surface: who is calling (a key or a client address), a bound
on how long a request body may take to arrive, and the one ``install`` step that adds the
intake middleware (read timeout → rate limits and challenge → idempotency) to the app.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.api.limits import BodyRefused, run_guarded
from bastion.errors import AuthError

if TYPE_CHECKING:
    from bastion.storage.keys import ApiKey

# The routes anyone may call without a key: each is rate limited per client address.
PUBLIC_ROUTES = frozenset(
    {("POST", "/v1/notices"), ("POST", "/v1/appeals"), ("POST", "/report"), ("POST", "/appeal")}
)


def bearer(scope: Scope) -> str | None:
    """The clear API key a request carries (``Authorization: Bearer`` or ``X-API-Key``)."""
    headers = dict(scope.get("headers") or [])
    auth = headers.get(b"authorization", b"").decode("latin-1")
    clear = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    return clear or headers.get(b"x-api-key", b"").decode("latin-1").strip() or None


def client_address(scope: Scope) -> str:
    """The caller's address (IPv6 grouped by /64, the block one subscriber usually holds).
    Behind a proxy, run uvicorn with ``--proxy-headers --forwarded-allow-ips``."""
    client = scope.get("client")
    host = client[0] if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:60]
    if address.version == 6 and not address.ipv4_mapped:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def key_scope(clear: str) -> str:
    """A stable, non-secret name for a key (its clear value never leaves the request)."""
    return "key:" + hashlib.sha256(clear.encode("utf-8", "replace")).hexdigest()[:32]


def valid_key(scope: Scope, clear: str | None) -> ApiKey | None:
    """The key when it authenticates; None for none, unknown or revoked keys."""
    if not clear:
        return None
    try:
        key: ApiKey = scope["app"].state.keys.authenticate(clear)
    except AuthError:
        return None
    return key


class _SlowBody(BodyRefused):
    code = "request_timeout"

    def __init__(self, seconds: float) -> None:
        message = f"the request body did not arrive within {seconds:g} s"
        super().__init__(408, message, headers={"Connection": "close"})


class ReadTimeout:
    """Refuses a request whose body does not arrive within ``seconds`` (408, then close):
    a client that sends half a request cannot hold a worker. Only the body read is timed;
    waiting for a disconnect after the body is complete is not."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        complete = False

        async def timed_receive() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.001))
            except TimeoutError:
                raise _SlowBody(self.seconds) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await run_guarded(self.app, scope, timed_receive, send)
