"""Rate limits (the maintained ``limits`` library, moving windows) and the pluggable
anti-automation challenge on public intake.

Public intake routes are limited per client address, or per key when a valid key is sent
(an invalid or revoked key counts as no key); every other request with a key is limited per
key. Counters live in memory (one process) or in Redis (``BASTION_RATE_LIMIT_STORAGE``), so
all replicas share them. A refused request gets 429 with ``Retry-After``. If the counter
store is unreachable, intake stays open (a notice must always be receivable) and the
failure is logged.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import math
import time
from collections.abc import Callable, Mapping

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from bastion.api.errors import error_body
from bastion.api.intake import PUBLIC_ROUTES, bearer, client_address, key_scope, valid_key
from bastion.api.limits import reply
from bastion.errors import BastionError, ConfigError, Forbidden
from bastion.settings import Settings

log = logging.getLogger("bastion.api.ratelimit")
POW_HEADER = "x-bastion-proof"
POW_MAX_AGE_S = 300
Check = Callable[[str, Mapping[str, str]], None]


class ChallengeFailed(Forbidden):
    code = "challenge_failed"


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def pow_digest(path: str, stamp: str) -> bytes:
    return hashlib.sha256(f"{path}:{stamp}".encode()).digest()


def solve_pow(path: str, bits: int, now: float | None = None) -> str:
    """A stamp ``<unix time>:<nonce>`` for ``path`` (what a client computes; for tests too)."""
    issued = int(time.time() if now is None else now)
    nonce = 0
    while leading_zero_bits(pow_digest(path, f"{issued}:{nonce}")) < bits:
        nonce += 1
    return f"{issued}:{nonce}"


class ProofOfWork:
    """Hashcash-style: sha256("<path>:<unix time>:<nonce>") must start with ``bits`` zero
    bits, be at most five minutes old, and be used once (remembered in the limiter store)."""

    def __init__(self, bits: int, storage: Storage) -> None:
        self.bits = bits
        self.storage = storage

    def __call__(self, path: str, headers: Mapping[str, str]) -> None:
        stamp = headers.get(POW_HEADER, "")
        issued, _, nonce = stamp.partition(":")
        need = f"send {POW_HEADER.title()}: <unix time>:<nonce> with {self.bits} zero bits"
        if not (issued.isdigit() and nonce.isdigit() and len(stamp) <= 40):
            raise ChallengeFailed(f"proof of work required: {need}", field=POW_HEADER)
        if abs(time.time() - int(issued)) > POW_MAX_AGE_S:
            raise ChallengeFailed(f"proof of work expired: {need}", field=POW_HEADER)
        digest = pow_digest(path, stamp)
        if leading_zero_bits(digest) < self.bits:
            raise ChallengeFailed(f"proof of work too weak: {need}", field=POW_HEADER)
        if self.storage.incr(f"bastion-pow/{digest.hex()}", 2 * POW_MAX_AGE_S) > 1:
            raise ChallengeFailed("this proof of work was already used", field=POW_HEADER)


def load_hook(spec: str) -> Check:
    module_name, _, attribute = spec.partition(":")
    try:
        hook = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(
            f"BASTION_INTAKE_CHALLENGE_HOOK {spec!r} cannot be loaded: {exc}"
        ) from exc
    if not callable(hook):
        raise ConfigError(f"BASTION_INTAKE_CHALLENGE_HOOK {spec!r} is not callable")
    checked: Check = hook
    return checked


def challenge_for(settings: Settings, storage: Storage) -> Check | None:
    if settings.intake_challenge == "pow":
        return ProofOfWork(settings.intake_pow_bits, storage)
    if settings.intake_challenge == "hook":
        if not settings.intake_challenge_hook:
            raise ConfigError("BASTION_INTAKE_CHALLENGE=hook needs BASTION_INTAKE_CHALLENGE_HOOK")
        return load_hook(settings.intake_challenge_hook)
    return None


class RateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        storage = storage_from_string(settings.rate_limit_storage)
        if not isinstance(storage, Storage):
            raise ConfigError("BASTION_RATE_LIMIT_STORAGE must name a synchronous storage")
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.public = parse_many(settings.rate_limit_public)
        self.public_key = parse_many(settings.rate_limit_public_key)
        self.service = parse_many(settings.rate_limit_service)
        self.challenge = challenge_for(settings, self.storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        public = (scope["method"], scope["path"]) in PUBLIC_ROUTES
        clear = bearer(scope)
        if public:
            # A database lookup: off the event loop, like the routes' own authentication.
            key = await run_in_threadpool(valid_key, scope, clear)
            name, items = (
                (f"pub-{key_scope(clear)}", self.public_key)
                if key is not None and clear
                else (f"pub-addr:{client_address(scope)}", self.public)
            )
        elif clear:
            key, name, items = None, f"svc-{key_scope(clear)}", self.service
        else:
            await self.app(scope, receive, send)
            return
        wait = self._hit(name, items)
        if wait is not None:
            message = f"too many requests; retry after {wait} s"
            await reply(send, 429, error_body("rate_limited", message), {"retry-after": str(wait)})
            return
        if public and key is None and self._challenged(scope["path"]):
            assert self.challenge is not None
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            try:
                self.challenge(scope["path"], headers)
            except BastionError as exc:
                body = error_body(exc.code, exc.message, exc.field)
                await reply(send, exc.status, body)
                return
        await self.app(scope, receive, send)

    def _challenged(self, path: str) -> bool:
        """A proof of work needs a computing client: it guards the API routes; a hook (a
        CAPTCHA or token service) guards the web forms too."""
        if self.challenge is None:
            return False
        return path.startswith("/v1/") or not isinstance(self.challenge, ProofOfWork)

    def _hit(self, name: str, items: list[RateLimitItem]) -> int | None:
        """None when the request may pass, else the seconds until it may be retried."""
        try:
            for item in items:
                if not self.limiter.hit(item, name):
                    reset, _ = self.limiter.get_window_stats(item, name)
                    return max(1, math.ceil(reset - time.time()))
        except Exception as exc:  # the counter store is down: stay open, say so
            log.warning("rate limiting skipped, counter store failed: %s", exc)
        return None
