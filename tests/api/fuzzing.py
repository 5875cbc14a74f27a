"""A seeded request fuzzer over every operation in ``openapi.json`` (used by the fuzz test and
by ``bench/fuzz_routes.py``). It builds hostile but plausible requests: valid-looking bodies
with one field broken, deep nesting, huge integers, lone surrogates, oversized strings, ids
that overflow 64 bits, wrong types, wrong content types and raw bytes."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

HOSTILE_STRINGS = (
    "",
    " ",
    "\ud800",  # a lone surrogate (sent as the JSON escape)
    "\udfff\ud800",
    "\x00",
    "a" * 5000,
    "ü" * 300,
    "9" * 5000,
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00%ff",
    "🙂" * 50,
    "null",
    "bst_" + "x" * 40,
)
HOSTILE_IDS = ("9" * 25, str(2**63), "-1", "0", "x" * 300, "%2e%2e", "\u202e", "1e9", "😀")


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: bytes | None
    content_type: str | None
    query: dict[str, str]

    @property
    def url(self) -> str:
        """Path and query percent-encoded as a client sends them (lone surrogates as the
        bytes a careless encoder produces)."""
        path = quote(self.path.encode("utf-8", "surrogatepass"), safe="/")
        if not self.query:
            return path
        return (
            path
            + "?"
            + "&".join(
                f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}"
                for k, v in self.query.items()
            )
        )


def _value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.random()
    if depth > 3 or pick < 0.3:
        return rng.choice(
            [
                rng.choice(HOSTILE_STRINGS),
                rng.randint(-(2**70), 2**70),
                rng.random() * 1e308,
                True,
                None,
                "",
            ]
        )
    if pick < 0.6:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["a", "image", "prompt", "id", "x" * 50]): _value(rng, depth + 1)}


def _from_schema(schema: dict[str, Any], components: dict[str, Any], rng: random.Random) -> Any:
    """A value of roughly the schema's shape, sometimes broken."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _from_schema(rng.choice(schema[key]), components, rng)
    if rng.random() < 0.15:
        return _value(rng)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        out = {
            name: _from_schema(sub, components, rng)
            for name, sub in props.items()
            if rng.random() < 0.8
        }
        if rng.random() < 0.1:
            out[rng.choice(["extra", "__proto__", "\ud800"])] = _value(rng)
        return out
    if kind == "array":
        return [
            _from_schema(schema.get("items", {}), components, rng) for _ in range(rng.randint(0, 3))
        ]
    if kind == "integer":
        return rng.choice([0, 1, -1, 2**31, 2**63, 2**64, 10**400, rng.randint(-5, 500)])
    if kind == "number":
        return rng.choice([0.0, -1.5, 1e308, 3.5])
    if kind == "boolean":
        return rng.choice([True, False, "yes"])
    if "enum" in schema:
        return rng.choice([*schema["enum"], "not-a-choice"])
    return rng.choice([*HOSTILE_STRINGS, "aGVsbG8=", "a red kite", "2026-12-07"])


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _body(rng: random.Random, schema: dict[str, Any] | None, components: dict[str, Any]) -> bytes:
    roll = rng.random()
    if roll < 0.06:
        return _nested(rng.choice([200, 5000, 100_000])).encode()
    if roll < 0.11:
        return ('{"prompt": ' + "9" * rng.choice([4301, 20000]) + "}").encode()
    if roll < 0.15:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    if roll < 0.18:
        return b'{"prompt": "\\ud800 lone", "image": "\\udfff"}'
    if roll < 0.2:
        return b'{"a": NaN, "b": Infinity}'
    value = _from_schema(schema or {}, components, rng) if schema else _value(rng)
    return json.dumps(value).encode()


def cases(openapi: dict[str, Any], seed: int, count: int) -> Iterator[Case]:
    rng = random.Random(seed)
    components = openapi.get("components", {}).get("schemas", {})
    operations = [
        (method.upper(), path, op)
        for path, item in openapi["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    for _ in range(count):
        method, path, op = rng.choice(operations)
        concrete = re.sub(
            r"\{[^}]+\}",
            lambda _m: rng.choice([*HOSTILE_IDS, "01a25104-ab31-7655-aba4-fad13725627f", "1"]),
            path,
        )
        query = {}
        for param in op.get("parameters", []):
            if param.get("in") == "query" and rng.random() < 0.6:
                query[param["name"]] = rng.choice([*HOSTILE_STRINGS, *HOSTILE_IDS, "10"])
        content = op.get("requestBody", {}).get("content", {})
        body = content_type = None
        if method in ("POST", "PUT", "PATCH"):
            schema = content.get("application/json", {}).get("schema")
            roll = rng.random()
            if roll < 0.1 and "multipart/form-data" in content:
                content_type = "multipart/form-data; boundary=xyz"
                body = b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\n\x89PNG\r\n--xyz--\r\n'
            elif roll < 0.15:
                content_type = rng.choice(
                    ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
                )
                body = b"prompt=%ff%fe&x=" + b"a" * 100
            else:
                content_type = "application/json"
                body = _body(rng, schema, components)
        yield Case(method, concrete, body, content_type, query)
