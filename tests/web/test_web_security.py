"""Web basics (issue 10): CSRF tokens on every form, security headers on every answer, a
plain landing page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bastion.api.app import create_app
from bastion.guard import Guard
from bastion.settings import Settings
from tests.web.test_report_form import COMPLETE


@pytest.fixture
def site(settings: Settings) -> Iterator[TestClient]:
    guard = Guard.from_settings(settings.model_copy(update={"rate_limit_public": "1000/minute"}))
    with TestClient(create_app(guard=guard), raise_server_exceptions=False) as client:
        yield client
    guard.close()


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def test_a_form_post_needs_the_visitors_token(site: TestClient) -> None:
    form = site.get("/report")
    assert "bastion_csrf" in form.headers["set-cookie"]
    assert "samesite=strict" in form.headers["set-cookie"].lower()
    assert "httponly" in form.headers["set-cookie"].lower()
    good = site.post("/report", data={**COMPLETE, "csrf_token": token(form.text)})
    assert good.status_code == 200, good.text[:300]
    # A cross-site page can make the browser post, but has neither the token nor the cookie.
    stranger = TestClient(site.app, raise_server_exceptions=False)
    forged = stranger.post("/report", data={**COMPLETE, "csrf_token": token(form.text)})
    assert forged.status_code == 403
    assert 'id="refused"' in forged.text
    assert site.post("/report", data=COMPLETE).status_code == 403  # no token
    other_origin = site.post(
        "/report",
        data={**COMPLETE, "csrf_token": token(form.text)},
        headers={"Origin": "https://evil.example"},
    )
    assert other_origin.status_code == 403
    appeal = site.get("/appeal?token=abc")
    refused = site.post("/appeal", data={"token": "abc", "explanation": "It is really mine."})
    assert refused.status_code == 403
    given = {"token": "abc", "explanation": "It is really mine.", "csrf_token": token(appeal.text)}
    sent = site.post("/appeal", data=given)
    assert sent.status_code != 403


@pytest.mark.parametrize("path", ["/", "/report", "/appeal", "/livez", "/v1/decisions/x"])
def test_every_answer_has_security_headers(site: TestClient, path: str) -> None:
    response = site.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in response.headers["cache-control"]
    policy = response.headers["content-security-policy"]
    assert "script-src" not in policy  # no script at all on the pages (default-src 'none')
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_landing_page_links_the_forms(site: TestClient) -> None:
    page = site.get("/")
    assert page.status_code == 200
    assert 'href="/report"' in page.text
    assert "<script" not in page.text
