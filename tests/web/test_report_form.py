"""The public report and appeal pages, over HTTP (no browser)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

COMPLETE = {
    "type": "take_it_down",
    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "keywords": "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
    "locations": "https://pics.example/i/img-1\nhttps://pics.example/i/img-2",
    "explanation": "An AI-generated intimate image of me, posted without my consent.",
    "jurisdiction": "US",
    "notifier_name": "Rae Requester",
    "notifier_email": "rae@example.org",
    "language": "en",
    "requester_role": "individual",
    "non_consent_statement": "I never consented to this.",
    "signature": "Rae Requester",
    "bona_fide": "yes",
}


def post_form(web: TestClient, path: str, data: dict[str, str], form: str | None = None) -> Any:
    """Open the form (its CSRF cookie and token), then send it, as a browser does."""
    page = web.get(form or path).text
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert found
    return web.post(path, data={**data, "csrf_token": found.group(1)})


def test_the_form_needs_no_account(web: TestClient) -> None:
    page = web.get("/report")
    assert page.status_code == 200
    assert "<form" in page.text
    assert 'name="explanation"' in page.text
    assert "Germany" in page.text
    assert "Cyber violence" in page.text


def test_an_empty_form_comes_back_with_every_message(web: TestClient) -> None:
    page = post_form(web, "/report", {"type": "take_it_down"})
    assert page.status_code == 422
    for field in (
        "explanation",
        "locations",
        "category",
        "jurisdiction",
        "notifier_email",
        "signature",
        "non_consent_statement",
        "requester_role",
        "bona_fide",
    ):
        assert f'data-field="{field}"' in page.text


def test_what_was_typed_is_kept_and_escaped(web: TestClient) -> None:
    page = post_form(web, "/report", {**COMPLETE, "explanation": "<b>short</b>"})
    assert page.status_code == 422
    assert "&lt;b&gt;short&lt;/b&gt;" in page.text
    assert 'value="Rae Requester"' in page.text


def test_a_complete_report_is_received_with_its_deadline(web: TestClient) -> None:
    page = post_form(web, "/report", COMPLETE)
    assert page.status_code == 200, page.text
    assert "we received your report" in page.text
    assert 'id="deadline"' in page.text


def test_the_appeal_page_refuses_a_bad_link(web: TestClient) -> None:
    assert web.get("/appeal?token=abc").status_code == 200
    page = post_form(
        web,
        "/appeal",
        {"token": "abc", "explanation": "This is really my photo."},
        form="/appeal?token=abc",
    )
    assert page.status_code == 404
    assert "not valid" in page.text
