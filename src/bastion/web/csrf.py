"""CSRF protection for the public forms: a double-submit token bound to a cookie.

``GET`` of a form sets a random ``bastion_csrf`` cookie (HttpOnly, SameSite=Strict) and puts
``HMAC(secret, cookie)`` into the form's hidden ``csrf_token`` field. A ``POST`` is accepted
only when both arrive and match, and when its ``Origin`` (if sent) is this site: a page on
another origin can make a browser post the form, but cannot read the token, and a strict
same-site cookie is not sent with its request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

COOKIE = "bastion_csrf"
FIELD = "csrf_token"


def _token(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def issue(request: Request, secret: bytes) -> tuple[str, str]:
    """(cookie value, form token): the visitor's cookie is kept when it is already set."""
    nonce = request.cookies.get(COOKIE) or ""
    if len(nonce) != 43:
        nonce = secrets.token_urlsafe(32)
    return nonce, _token(secret, nonce)


def set_cookie(response: HTMLResponse, request: Request, nonce: str) -> HTMLResponse:
    response.set_cookie(
        COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def valid(request: Request, secret: bytes, token: object) -> bool:
    """Whether a form POST carries this visitor's token and comes from this site."""
    # Browsers send "Origin: null" under our Referrer-Policy: no-referrer; then the token and
    # the strict same-site cookie decide alone.
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        return False
    nonce = request.cookies.get(COOKIE)
    if not nonce or not isinstance(token, str):
        return False
    return hmac.compare_digest(_token(secret, nonce), token)
