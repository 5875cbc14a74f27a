"""Screen many prompts from JSON lines: ``{"id", "prompt"}`` plus an optional ``"image"`` path.

Each input line gives exactly one output record; a bad line gives a record with a typed
``error`` instead of stopping the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bastion.errors import BastionError, InvalidInput
from bastion.guard import Guard
from bastion.policy.model import Decision


def _line_id(data: Any, number: int) -> Any:
    if isinstance(data, dict) and isinstance(data.get("id"), str | int):
        return data["id"]
    return None


def screen_line(
    guard: Guard, raw: str, number: int, base_dir: Path
) -> tuple[dict[str, Any], Any, Decision | None]:
    """Screen one JSONL line. Returns (output record, parsed input, decision or None)."""
    data: Any = None
    try:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {number}: invalid JSON: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise InvalidInput(f"line {number}: expected a JSON object")
        if (
            "id" not in data
            or not isinstance(data["id"], str | int)
            or isinstance(data["id"], bool)
        ):
            raise InvalidInput(f"line {number}: 'id' (string or number) is required", field="id")
        if "prompt" not in data:
            raise InvalidInput(f"line {number}: 'prompt' is required", field="prompt")
        images: list[bytes] = []
        if data.get("image") is not None:
            if not isinstance(data["image"], str):
                raise InvalidInput(f"line {number}: 'image' must be a file path", field="image")
            path = Path(data["image"])
            path = path if path.is_absolute() else base_dir / path
            try:
                images.append(path.read_bytes())
            except OSError as exc:
                raise InvalidInput(
                    f"line {number}: cannot read image {path}: {exc.strerror}", field="image"
                ) from exc
        decision = guard.check_generation(data["prompt"], images)
    except BastionError as exc:
        record = {
            "id": _line_id(data, number),
            "line": number,
            "error": {"code": exc.code, "message": exc.message},
        }
        return record, data, None
    record = {"id": data["id"], "action": decision.action.value, "rules": decision.rules}
    return record, data, decision


def screen_lines(
    guard: Guard, lines: Iterable[str], base_dir: Path
) -> Iterator[tuple[dict[str, Any], Any, Decision | None]]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        yield screen_line(guard, raw, number, base_dir)
