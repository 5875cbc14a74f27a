"""The composition root: settings → database → repositories → services → detectors →
effects → what a Guard (or a Workflow, or one CLI command) is made of.

Every adapter gets its parts from here — the API and web app, the CLI, the worker and the
tests — so the wiring cannot drift between them. Each part is built by a small function, so a
command builds only what it uses (``bastion verify`` needs the provenance services, not the
image models). Nothing here is imported by the layers it wires.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from bastion.clock import Clock, SystemClock
from bastion.components import Components, Effect
from bastion.detectors.context import DetectorContext
from bastion.detectors.registry import Registry, default_registry
from bastion.hashing.banks import BankService
from bastion.policy.loader import load_policy
from bastion.settings import Settings
from bastion.storage.db import Database

if TYPE_CHECKING:
    from bastion.provenance.service import Provenance
    from bastion.workflow.service import Workflow


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """The data directory prepared, the database opened and (by default) migrated."""
    from bastion.bootstrap import prepare_data_dir

    prepare_data_dir(settings)
    db = Database(settings.resolved_database_url)
    if migrate:
        db.migrate()
    return db


def bank_service(settings: Settings, db: Database, clock: Clock | None = None) -> BankService:
    """The hash banks with the same image limits and match quality as every other surface."""
    return BankService.from_settings(settings, db, clock)


def provenance_service(settings: Settings, db: Database, clock: Clock) -> Provenance:
    from bastion.provenance.service import Provenance

    return Provenance(settings, db, clock)


def workflow_service(
    settings: Settings, db: Database, banks: BankService, **kwargs: Any
) -> Workflow:
    """The DSA workflow, with stay-down in the hash banks (removals are banked by PDQ)."""
    from bastion.staydown import StayDown
    from bastion.workflow.service import Workflow

    kwargs.setdefault("stay_down", StayDown(banks))
    return Workflow(db, settings, settings.resolved_secret(), **kwargs)


def effects(
    settings: Settings, banks: BankService, workflow: Callable[[], Workflow]
) -> tuple[Effect, ...]:
    """After each decision: bank blocked images first, then turn blocked or held content
    into cases (the workflow is built on first use)."""
    from bastion.staydown import StayDown
    from bastion.staydown.effect import StayDownEffect
    from bastion.workflow.effects import OpenCaseEffect

    stay_down: tuple[Effect, ...] = (StayDownEffect(StayDown(banks)),) if settings.stay_down else ()
    return (*stay_down, OpenCaseEffect(workflow))


def build_components(
    settings: Settings,
    *,
    registry: Registry | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
) -> Components:
    """Everything a Guard uses, in dependency order."""
    clock = clock or SystemClock()
    db = open_database(settings, migrate=migrate)
    banks = bank_service(settings, db, clock)
    provenance = cache(lambda: provenance_service(settings, db, clock))
    workflow = cache(lambda: workflow_service(settings, db, banks, clock=clock))
    registry = registry or default_registry()
    return Components(
        settings=settings,
        db=db,
        policy=load_policy(settings.policy_file),
        detectors=registry.create(settings.detectors, settings.detector_options),
        secret=settings.resolved_secret(),
        banks=banks,
        context=DetectorContext(settings, db, banks, clock, provenance),
        known_labels=registry.labels(),
        effects=effects(settings, banks, workflow),
    )
