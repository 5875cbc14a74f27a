"""GET/POST /report (the public notice form) and GET/POST /appeal (the appeal form).

Server-rendered, no account and no JavaScript needed. An incomplete report comes back with
every problem listed next to its field and everything typed kept.
"""

from __future__ import annotations

from typing import Any

import jinja2
import pycountry
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bastion.api.workflow_deps import get_workflow
from bastion.errors import BastionError
from bastion.policy.loader import sor_enums
from bastion.web import csrf
from bastion.workflow import appeals, notices
from bastion.workflow.notices import IncompleteNotice, NoticeInput
from bastion.workflow.service import PUBLIC

router = APIRouter(include_in_schema=False)

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("bastion.web", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
)
TYPES = (
    ("dsa_art16", "Illegal content (EU Digital Services Act, Article 16)"),
    ("take_it_down", "Intimate image of me published without consent (TAKE IT DOWN request)"),
    ("other", "Breaks the platform's rules"),
)
FIELDS = (
    "type",
    "category",
    "locations",
    "explanation",
    "jurisdiction",
    "notifier_name",
    "notifier_email",
    "language",
    "requester_role",
    "non_consent_statement",
    "signature",
)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(name).render(lang="en", **context)
    return HTMLResponse(html, status_code=status)


def _form_page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page with a form: it carries this visitor's CSRF token (and sets its cookie)."""
    nonce, token = csrf.issue(request, get_workflow(request).settings.resolved_secret())
    response = _page(name, status, csrf_token=token, **context)
    return csrf.set_cookie(response, request, nonce)


def _forged(request: Request, token: object) -> HTMLResponse | None:
    """The refusal page for a POST without this visitor's CSRF token, else None."""
    if csrf.valid(request, get_workflow(request).settings.resolved_secret(), token):
        return None
    return _page(
        "refused.html",
        status=403,
        platform=get_workflow(request).settings.platform_name,
        message="This form expired or was sent from another site. Open the form again and "
        "send it from there.",
    )


@router.get("/", response_class=HTMLResponse)
def landing(request: Request) -> HTMLResponse:
    return _page("index.html", platform=get_workflow(request).settings.platform_name)


def _choices() -> dict[str, Any]:
    enums = sor_enums()
    hierarchy = enums["CATEGORY_HIERARCHY_IR_2024_2835"]
    categories = sorted(enums["STATEMENT_CATEGORIES"].items(), key=lambda kv: kv[1])
    groups = [
        (
            category,
            label,
            [
                (k["keyword"], k["description"])
                for k in hierarchy.get(category, {}).get("keywords", [])
            ],
        )
        for category, label in categories
        if hierarchy.get(category, {}).get("keywords")
    ]
    countries = sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda x: x[1])
    return {
        "types": TYPES,
        "categories": categories,
        "keyword_groups": groups,
        "countries": countries,
    }


def _blank_form() -> dict[str, Any]:
    return {name: "" for name in FIELDS} | {"keywords": [], "bona_fide": False, "language": "en"}


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request) -> HTMLResponse:
    wf = get_workflow(request)
    form = _blank_form()
    wanted = request.query_params.get("type")
    if wanted in {t for t, _ in TYPES}:
        form["type"] = wanted
    return _form_page(
        request,
        "report.html",
        platform=wf.settings.platform_name,
        form=form,
        errors=[],
        field_errors={},
        **_choices(),
    )


@router.post("/report", response_class=HTMLResponse)
async def report_submit(request: Request) -> HTMLResponse:
    wf = get_workflow(request)
    async with request.form(max_files=0, max_fields=40) as data:
        form = _blank_form()
        for name in FIELDS:
            value = data.get(name)
            form[name] = value if isinstance(value, str) else ""
        form["keywords"] = [k for k in data.getlist("keywords") if isinstance(k, str) and k]
        form["bona_fide"] = data.get("bona_fide") == "yes"
        forged = _forged(request, data.get(csrf.FIELD))
    if forged is not None:
        return forged
    given = NoticeInput(
        type=form["type"] or "dsa_art16",
        explanation=form["explanation"],
        locations=form["locations"].splitlines(),
        category=form["category"],
        keywords=form["keywords"],
        jurisdiction=form["jurisdiction"],
        notifier_name=form["notifier_name"] or None,
        notifier_email=form["notifier_email"] or None,
        bona_fide=form["bona_fide"],
        language=form["language"] or "en",
        signature=form["signature"] or None,
        non_consent_statement=form["non_consent_statement"] or None,
        requester_role=form["requester_role"] or None,
    )
    try:
        receipt = notices.submit(wf, given, channel="web", actor=PUBLIC)
    except IncompleteNotice as exc:
        field_errors: dict[str, str] = {}
        for field, message in exc.problems:
            field_errors.setdefault(field, message)
        return _form_page(
            request,
            "report.html",
            status=422,
            platform=wf.settings.platform_name,
            form=form,
            errors=exc.problems,
            field_errors=field_errors,
            **_choices(),
        )
    except BastionError as exc:
        return _form_page(
            request,
            "report.html",
            status=exc.status,
            platform=wf.settings.platform_name,
            form=form,
            errors=[(exc.field or "form", exc.message)],
            field_errors={},
            **_choices(),
        )
    statutory = [d for d in receipt.deadlines if d.regime != "dsa"]
    deadline = min((d.due_at for d in statutory), default=None)
    return _page(
        "report_received.html",
        platform=wf.settings.platform_name,
        notice_id=receipt.notice.id,
        deadline=deadline.strftime("%Y-%m-%d %H:%M") if deadline else None,
        email=bool(receipt.notice.notifier_email),
    )


@router.get("/appeal", response_class=HTMLResponse)
def appeal_form(request: Request) -> HTMLResponse:
    wf = get_workflow(request)
    token = request.query_params.get("token", "")
    return _form_page(
        request,
        "appeal.html",
        platform=wf.settings.platform_name,
        token=token[:200],
        explanation="",
        error=None,
    )


@router.post("/appeal", response_class=HTMLResponse)
async def appeal_submit(request: Request) -> HTMLResponse:
    wf = get_workflow(request)
    async with request.form(max_files=0, max_fields=5) as data:
        token = data.get("token")
        explanation = data.get("explanation")
        forged = _forged(request, data.get(csrf.FIELD))
    if forged is not None:
        return forged
    token = token if isinstance(token, str) else ""
    explanation = explanation if isinstance(explanation, str) else ""
    try:
        appeal = appeals.lodge(wf, token, explanation)
    except BastionError as exc:
        return _form_page(
            request,
            "appeal.html",
            status=exc.status,
            platform=wf.settings.platform_name,
            token=token[:200],
            explanation=explanation,
            error=exc.message,
        )
    return _page("appeal_received.html", platform=wf.settings.platform_name, appeal_id=appeal.id)
