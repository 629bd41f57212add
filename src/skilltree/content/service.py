"""A skill's content modules for learners, and their time on each.

Heartbeats are counted in PostgreSQL (`content_heartbeat`, db/schema/content.sql), on the
server's clock: a heartbeat adds the time since the learner's last heartbeat on the module, at
most CONTENT_HEARTBEAT_MAX_SECONDS, and never past the module's cap (CONTENT_MODULE_TIME_FACTOR
times its estimate). This module checks who may see what, passes the settings, and shapes the
answers. The caller commits.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from skilltree.assessments import service as assessments_service
from skilltree.catalog import service as catalog_service
from skilltree.config import get_settings
from skilltree.content import repository
from skilltree.content.schemas import (
    HeartbeatOutcome,
    ModuleDone,
    ModuleProgress,
    SkillModule,
    SkillModules,
)
from skilltree.documents import SkillContent
from skilltree.errors import InvalidTransition, NotFound
from skilltree.models import ProgressEventKind, User, UserSkillModuleProgress
from skilltree.progress import service as progress_service


def _now() -> datetime:
    return datetime.now(UTC)


def cap_seconds(estimated_minutes: float, factor: float) -> int:
    """The most time a module counts: `factor` times its estimate, in whole seconds (as
    `content_heartbeat` computes it, in exact decimals)."""
    return math.floor(Decimal(str(factor)) * Decimal(str(estimated_minutes)) * 60)


def _progress(row: UserSkillModuleProgress, cap: int) -> ModuleProgress:
    return ModuleProgress(
        module_id=row.module_id,
        opened_at=row.opened_at,
        last_heartbeat_at=row.last_heartbeat_at,
        seconds_spent=float(row.seconds_spent),
        heartbeats=row.heartbeats,
        done_at=row.done_at,
        cap_seconds=cap,
    )


def skill_modules(session: Session, skill_id: str, viewer: User | None) -> SkillModules:
    """The content modules of skill `skill_id` (if `viewer` may see its tree), each with the
    viewer's time on it. Modules carry titles, kinds, estimates and resources only: a skill's
    question bank and its keys are never part of them."""
    skill = catalog_service.visible_skill(session, skill_id, viewer)
    settings = get_settings()
    content = SkillContent.model_validate(skill.content) if skill.content else None
    rows: dict[str, UserSkillModuleProgress] = {}
    if viewer is not None:
        rows = {r.module_id: r for r in repository.module_rows(session, viewer.id, skill.id)}
    modules = []
    if content is not None:
        for position, (module_id, module) in enumerate(
            zip(content.module_ids(), content.modules or (), strict=True), start=1
        ):
            cap = cap_seconds(module.estimatedMinutes, settings.content_module_time_factor)
            row = rows.get(module_id)
            shown = module.model_dump(mode="json")  # (whole minutes as integers)
            modules.append(
                SkillModule(
                    id=module_id,
                    position=position,
                    title=module.title,
                    type=module.type,
                    estimated_minutes=shown["estimatedMinutes"],
                    resources=shown["resources"],
                    body=module.body,
                    cap_seconds=cap,
                    progress=None if row is None else _progress(row, cap),
                )
            )
    time_based = skill.completion_policy.get("TIME_BASED")
    return SkillModules(
        skill_id=skill.id,
        content_type=None if content is None else content.type,
        modules=modules,
        heartbeat_max_seconds=settings.content_heartbeat_max_seconds,
        verified_seconds=None
        if viewer is None
        else float(sum((r.seconds_spent for r in rows.values()), Decimal(0))),
        required_minutes=None if time_based is None else int(time_based["minutes"]),
        has_question_bank=assessments_service.has_bank(session, skill.id),
    )


def _module_call(
    session: Session, user: User, skill_id: str, module_id: str, call: repository.ModuleCall
) -> dict[str, Any]:
    """The answer of a heartbeat or done on a module, asked again for a draft the learner may
    see; its refusals raised as domain errors."""
    settings = get_settings()
    answer = progress_service.run_visible(
        user,
        lambda ok: repository.module_call(
            session,
            call,
            user.id,
            skill_id,
            module_id,
            _now(),
            unpublished_ok=ok,
            time_factor=settings.content_module_time_factor,
            max_gap_seconds=settings.content_heartbeat_max_seconds,
        ),
    )
    if answer is None:
        raise NotFound(f"No skill has the id {skill_id!r}.")
    match answer.get("refused"):
        case None:
            return answer
        case "NoModule":
            raise NotFound(f"The skill {skill_id!r} has no content module {module_id!r}.")
        case "NotOpened":
            raise InvalidTransition(
                f"The module {module_id!r} is not opened yet: send its heartbeats first."
            )
    # Refused as the skill's start is (Inactive, SkillLocked): the engine's errors.
    progress_service.outcome(answer, ProgressEventKind.START)
    raise AssertionError(f"unknown refusal {answer!r}")


def heartbeat(session: Session, user: User, skill_id: str, module_id: str) -> HeartbeatOutcome:
    """One heartbeat of the learner on a module: opens it (and starts the skill) the first time,
    then adds the time since the last one, within the bounds; a TIME_BASED skill whose minutes
    its modules reach is completed."""
    answer = _module_call(session, user, skill_id, module_id, "heartbeat")
    completion = answer["completion"]
    return HeartbeatOutcome(
        module=ModuleProgress.model_validate(answer["module"]),
        added_seconds=answer["addedSeconds"],
        verified_seconds=answer["verifiedSeconds"],
        progress=progress_service.outcome(answer["progress"], ProgressEventKind.ACTIVITY),
        # (a completion the engine refused wrote nothing: the heartbeat's time stands)
        completion=None
        if completion is None or "refused" in completion
        else progress_service.counted(
            session,
            ProgressEventKind.COMPLETE,
            progress_service.outcome(completion, ProgressEventKind.COMPLETE),
        ),
    )


def module_done(session: Session, user: User, skill_id: str, module_id: str) -> ModuleDone:
    """Mark a module the learner opened done (the first time stays)."""
    answer = _module_call(session, user, skill_id, module_id, "done")
    return ModuleDone(module=ModuleProgress.model_validate(answer["module"]))
