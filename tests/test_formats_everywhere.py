"""One format list and one set of limits on every surface (issue 9).

Each format is sent to every surface that takes an image — the library (generation, upload and
output checks, mark, verify, bank add and lookup), the HTTP routes (Bastion's and HMA's) and
``bastion bank add`` — and must be accepted on all of them or refused on all of them with the
same typed error code; an image past the pixel limit is refused with one code everywhere. Never
a detector failure, never a 500. The real ``hash_match`` and provenance detectors run; the pixel
detector is a fake (the real models are covered elsewhere).
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from typer.testing import CliRunner

from bastion.api.app import create_app
from bastion.cli.app import app as cli_app
from bastion.content import Image
from bastion.errors import BastionError
from bastion.findings import DETECTOR_ERROR
from bastion.guard import Guard
from bastion.settings import Settings
from bastion.storage.keys import ApiKeyRepository, Role
from bastion.testing import fake_detector_class, make_registry
from tests.images import sample

MAX_PIXELS = 100_000  # the controls are 384×256; the oversized image is 400×300
ACCEPTED = ("PNG", "JPEG", "WEBP", "GIF", "AVIF")
REFUSED = ("BMP", "TIFF")  # not on the one format list: refused everywhere, 415
DETECTORS = [
    "prompt_lexicon",
    "hash_match",
    "provenance_watermark",
    "provenance_c2pa",
    "fake_pixels",
]
FakePixels = fake_detector_class("fake_pixels", ["fake_pixels"], accepts=Image)


def picture(size: tuple[int, int], fmt: str) -> bytes:
    """The coffee-cup sample photo, resized, in ``fmt``."""
    image = PILImage.fromarray(sample("coffee")).resize(size)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@dataclass
class World:
    guard: Guard
    client: TestClient
    service: dict[str, str]
    curator: dict[str, str]
    data_dir: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("formats") / "data"
    settings = Settings.load(
        data_dir=data_dir,
        secret_key="test-secret-key-0123456789abcdef",
        detectors=DETECTORS,
        image_max_pixels=MAX_PIXELS,
        c2pa_dev_signer=True,
    )
    guard = Guard.from_settings(settings, registry=make_registry(FakePixels, with_builtins=True))
    # Disabled, so the images banked here do not turn the later output checks into blocks.
    guard.banks.create_bank("known", "other", enabled=False)
    app = create_app(guard=guard)
    keys: ApiKeyRepository = app.state.keys
    service = keys.create("service", Role.SERVICE)[1]
    curator = keys.create("curator", Role.CHILD_SAFETY)[1]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield World(
            guard,
            client,
            {"Authorization": f"Bearer {service}"},
            {"Authorization": f"Bearer {curator}"},
            data_dir,
        )
    guard.close()


# -- each surface: "ok" or the typed error code -------------------------------------------------

Outcome = str
OK = "ok"


def _library(call: Callable[[], Any]) -> Outcome:
    try:
        result = call()
    except BastionError as exc:
        return exc.code
    findings = getattr(result, "findings", ())
    failed = [f for f in findings if f.label == DETECTOR_ERROR]
    assert not failed, failed
    return OK


def _http(response: Any) -> Outcome:
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        return str(body["error"]["code"])
    failed = [f for f in body.get("findings", ()) if f.get("label") == DETECTOR_ERROR]
    assert not failed, failed
    return OK


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def library_surfaces(world: World, data: bytes) -> dict[str, Outcome]:
    guard = world.guard
    out = {
        "check_generation": _library(lambda: guard.check_generation("a cup of coffee", [data])),
        "scan_upload": _library(lambda: guard.scan_upload(data)),
        "check_output": _library(lambda: guard.check_output(data)),
        "verify": _library(lambda: guard.verify(data)),
        "banks.add_image": _library(lambda: guard.banks.add_image("known", data, added_by="t")),
        "banks.lookup_image": _library(lambda: guard.banks.lookup_image(data)),
        "mark_unlinked": _library(lambda: guard.mark(data, None)),
    }

    def mark() -> Any:
        return guard.mark(data, guard.check_output(data))

    out["mark"] = _library(mark)
    return out


def http_surfaces(world: World, data: bytes) -> dict[str, Outcome]:
    client, service, curator = world.client, world.service, world.curator
    file = {"image": ("image", data, "application/octet-stream")}
    photo = {"photo": ("photo", data, "application/octet-stream")}
    out = {
        "POST /v1/generations/check json": _http(
            client.post(
                "/v1/generations/check",
                json={"prompt": "a cup of coffee", "images": [_b64(data)]},
                headers=service,
            )
        ),
        "POST /v1/generations/check multipart": _http(
            client.post(
                "/v1/generations/check",
                data={"prompt": "a cup of coffee"},
                files={"images": ("images", data, "application/octet-stream")},
                headers=service,
            )
        ),
        "POST /v1/uploads/scan": _http(
            client.post("/v1/uploads/scan", files=file, headers=service)
        ),
        "POST /v1/uploads/scan json": _http(
            client.post("/v1/uploads/scan", json={"image": _b64(data)}, headers=service)
        ),
        "POST /v1/provenance/verify": _http(
            client.post("/v1/provenance/verify", json={"image": _b64(data)}, headers=service)
        ),
        "POST /v1/lookup": _http(client.post("/v1/lookup", files=file, headers=service)),
        "POST /v1/banks/known/entries": _http(
            client.post("/v1/banks/known/entries", files=file, headers=curator)
        ),
        "POST /h/hash": _http(client.post("/h/hash", files=photo, headers=service)),
        "POST /m/lookup": _http(client.post("/m/lookup", files=photo, headers=service)),
        "POST /c/bank/known/content": _http(
            client.post("/c/bank/known/content", files=photo, headers=curator)
        ),
    }
    checked = client.post("/v1/outputs/check", json={"image": _b64(data)}, headers=service)
    out["POST /v1/outputs/check"] = _http(checked)
    # Mark with the output's own decision where it has one, else with an allowed decision of
    # another image: the image itself must be refused before the decision is looked at.
    decision_id = checked.json()["id"] if checked.status_code == 200 else world_decision(world)
    out["POST /v1/outputs/mark"] = _http(
        client.post(
            "/v1/outputs/mark",
            json={"image": _b64(data), "decision_id": decision_id},
            headers=service,
        )
    )
    return out


def world_decision(world: World) -> str:
    """An allowed output decision of this key, about another image."""
    other = _b64(picture((300, 300), "PNG"))
    reply = world.client.post("/v1/outputs/check", json={"image": other}, headers=world.service)
    assert reply.json()["action"] == "allow", reply.text
    return str(reply.json()["id"])


def cli_surfaces(world: World, data: bytes, tmp_path: Path, fmt: str) -> dict[str, Outcome]:
    path = tmp_path / f"image.{fmt.lower()}"
    path.write_bytes(data)
    env = {"BASTION_IMAGE_MAX_PIXELS": str(MAX_PIXELS)}
    data_dir = ["--data-dir", str(world.data_dir)]

    def run(*args: str) -> Any:
        result = CliRunner().invoke(cli_app, list(args), env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result

    def refused(result: Any, status: int) -> Outcome:
        assert result.exit_code == status, (result.exit_code, result.output)
        line = result.stderr.strip().splitlines()[-1]  # "error: … [code]"
        assert line.startswith("error: "), line
        assert line.endswith("]"), line
        return line.rsplit("[", 1)[1][:-1]

    added = run("bank", "add", "known", str(path), *data_dir)
    hashed = run("hash", str(path))
    matched = run("match", str(path), *data_dir)
    record = json.loads(matched.stdout)
    return {
        "bastion bank add": OK if added.exit_code == 0 else refused(added, 2),
        "bastion hash": OK if hashed.exit_code == 0 else refused(hashed, 1),
        "bastion match": record["error"]["code"] if "error" in record else OK,
    }


def every_surface(world: World, data: bytes, tmp_path: Path, fmt: str) -> dict[str, Outcome]:
    return {
        **library_surfaces(world, data),
        **http_surfaces(world, data),
        **cli_surfaces(world, data, tmp_path, fmt),
    }


# -- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ACCEPTED + REFUSED)
def test_a_format_is_accepted_everywhere_or_refused_everywhere_alike(
    world: World, tmp_path: Path, fmt: str
) -> None:
    outcomes = every_surface(world, picture((384, 256), fmt), tmp_path, fmt)
    expected = OK if fmt in ACCEPTED else "unsupported_media_type"
    assert outcomes == dict.fromkeys(outcomes, expected)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "AVIF"])
def test_an_image_past_the_pixel_limit_is_refused_everywhere_alike(
    world: World, tmp_path: Path, fmt: str
) -> None:
    outcomes = every_surface(world, picture((400, 300), fmt), tmp_path, fmt)
    assert outcomes == dict.fromkeys(outcomes, "input_too_large")


def test_unrecognised_bytes_are_refused_everywhere_alike(world: World, tmp_path: Path) -> None:
    data = np.arange(4096, dtype=np.uint8).tobytes()
    outcomes = every_surface(world, data, tmp_path, "bin")
    assert outcomes == dict.fromkeys(outcomes, "invalid_input")
