"""One HTTP POST bounded by a total deadline, for remote judges.

``urllib``'s ``timeout`` applies to each socket operation, so a server that drips its reply a
byte at a time holds a caller for as long as it likes. Here every connect, send and read is
given only the time left until the call's deadline, and the body is read in chunks with the
deadline checked between them: a call never outlives its deadline by more than one short
socket operation.
"""

from __future__ import annotations

import http.client
import ssl
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

MAX_BODY = 1_000_000
_CHUNK = 16_384


class DeadlineExceeded(TimeoutError):
    """The call's total time ran out (connecting, sending or reading a dripping body)."""


class HttpStatusError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    use_env_proxy: bool = False


def post(target: Target, body: bytes, headers: dict[str, str], deadline: float) -> bytes:
    """POST ``body`` and return the response body; raise at ``deadline`` (monotonic).

    Raises DeadlineExceeded, HttpStatusError (any status other than 2xx), OSError
    (connection problems) or ValueError (a body over MAX_BODY)."""
    parts = urllib.parse.urlsplit(target.url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    proxy = _proxy(parts.scheme, host) if target.use_env_proxy else None
    timeout = _left(deadline)
    connection: http.client.HTTPConnection
    if proxy is not None:
        p_host, p_port = proxy
        if https:
            connection = http.client.HTTPSConnection(
                p_host, p_port, timeout=timeout, context=ssl.create_default_context()
            )
            connection.set_tunnel(host, port)
        else:
            connection = http.client.HTTPConnection(p_host, p_port, timeout=timeout)
            path = target.url
    elif https:
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.connect()
        sock = connection.sock
        if sock is None:  # pragma: no cover - connect() sets it or raises
            raise OSError("no socket after connect")
        sock.settimeout(_left(deadline))
        connection.request("POST", path, body=body, headers=headers)
        sock.settimeout(_left(deadline))
        response = connection.getresponse()
        chunks: list[bytes] = []
        size = 0
        while True:
            sock.settimeout(_left(deadline))
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BODY:
                raise ValueError(f"reply over {MAX_BODY} bytes")
            chunks.append(chunk)
        if not 200 <= response.status < 300:
            raise HttpStatusError(response.status, response.reason)
        return b"".join(chunks)
    except TimeoutError as exc:
        raise DeadlineExceeded("the call's deadline passed") from exc
    finally:
        connection.close()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the call's deadline passed")
    return left


def _proxy(scheme: str, host: str) -> tuple[str, int] | None:
    if urllib.request.proxy_bypass(host):
        return None
    found = urllib.request.getproxies().get(scheme)
    if not found:
        return None
    parsed = urllib.parse.urlsplit(found if "://" in found else f"http://{found}")
    return parsed.hostname or "", parsed.port or 8080
