"""The demo's learners and the weeks of learning they have behind them.

A learner's plan says how far they got in each tree and on which days they learned. The seed
turns it into the events a learner makes through the API (enrol, start, work on, complete, skip),
dated on those days, and replays them through the progress engine (`demo.replay`): the engine
unlocks, counts XP, streaks, levels and achievements and keeps the audit trail, exactly as for a
real learner, so everything the demo shows adds up. Planning is pure (no database, no clock, no
randomness): the same plan and `now` give the same events.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from skilltree.models import CompletionMethod, ProgressEventKind, SkillType
from skilltree.seed.rows import Row

Event = ProgressEventKind


@dataclass(frozen=True)
class LearnerOutline:
    """A demo learner: who they are, when they learn and how far they got in each tree."""

    email: str
    username: str
    first_name: str
    last_name: str
    bio: str
    location: str
    timezone: str
    learning_goals: tuple[str, ...]
    interests: tuple[str, ...]
    learning_days: tuple[tuple[int, int], ...]
    """Oldest first, (days off, then days learning in a row); the last run ends yesterday in
    their time zone, so their current streak is the last run and their best the longest."""
    hour: int
    """The local hour at which their learning day starts."""
    plan: tuple[tuple[str, int | None], ...]
    """(tree slug, how many skills they got through in its learning order; None: all of them),
    in the order they took the trees. In a tree not finished they are working on the next skill."""
    skips: tuple[str, ...] = ()
    """Short names of optional skills they skip rather than complete when they reach them."""

    def user_row(self, joined: datetime) -> Row:
        """The `users` row (without id and password hash) of an account made at `joined`."""
        return {
            "email": self.email,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "is_active": True,
            "email_verified": True,
            "created_at": joined,
        }

    def profile_row(self, joined: datetime) -> Row:
        """The `user_profiles` row before any progress (without user id)."""
        return {
            "bio": self.bio,
            "location": self.location,
            "timezone": self.timezone,
            "learning_goals": list(self.learning_goals),
            "interests": list(self.interests),
            "preferences": {"emailNotifications": True, "dailyGoalMinutes": 30, "theme": "system"},
            "created_at": joined,
        }


LEARNERS = (
    LearnerOutline(
        email="maya.chen@skilltree.dev",
        username="maya_chen",
        first_name="Maya",
        last_name="Chen",
        bio="Marketing analyst teaching herself data science, one notebook at a time.",
        location="Toronto, Canada",
        timezone="America/Toronto",
        learning_goals=("Automate my weekly reports", "Build a customer churn model"),
        interests=("data visualisation", "statistics", "python"),
        learning_days=((0, 6), (3, 21), (2, 5), (4, 12)),
        hour=19,
        plan=(("python-for-data-science", 14), ("sql-and-relational-databases", 6)),
        skips=("Time Series",),
    ),
    LearnerOutline(
        email="leo.okafor@skilltree.dev",
        username="leo_okafor",
        first_name="Leo",
        last_name="Okafor",
        bio="Support engineer moving into backend development.",
        location="Lagos, Nigeria",
        timezone="Africa/Lagos",
        learning_goals=("Get a backend developer job", "Ship my own API"),
        interests=("apis", "databases", "devops"),
        learning_days=((0, 9), (2, 14), (5, 20), (1, 34)),
        hour=6,
        plan=(
            ("sql-and-relational-databases", None),
            ("backend-web-development-with-python", 11),
            ("devops-foundations", 4),
        ),
    ),
    LearnerOutline(
        email="priya.nair@skilltree.dev",
        username="priya_nair",
        first_name="Priya",
        last_name="Nair",
        bio="Graphic designer learning UX and enough front end to prototype in code.",
        location="Bengaluru, India",
        timezone="Asia/Kolkata",
        learning_goals=("Switch to a UX design role", "Prototype my designs in React"),
        interests=("design", "accessibility", "web development"),
        learning_days=((0, 5), (2, 9), (3, 8), (4, 7), (6, 5)),
        hour=17,
        plan=(
            ("frontend-web-development", None),
            ("ux-design-basics", None),
            ("javascript-and-react", 6),
        ),
    ),
    LearnerOutline(
        email="sam.jensen@skilltree.dev",
        username="sam_jensen",
        first_name="Sam",
        last_name="Jensen",
        bio="Student who just set up a home server and wants to understand what it is doing.",
        location="Copenhagen, Denmark",
        timezone="Europe/Copenhagen",
        learning_goals=("Run my own server safely",),
        interests=("linux", "self-hosting"),
        learning_days=((0, 3), (4, 1), (3, 1)),
        hour=15,
        plan=(("devops-foundations", 2), ("frontend-web-development", 1)),
    ),
)
DEMO_PASSWORD = "password123"

BREAK = timedelta(minutes=15)
"""Between two sessions of one day."""


@dataclass(frozen=True)
class SkillNode:
    """What the plan needs to know about one active skill."""

    id: str
    short_name: str
    skill_type: SkillType
    estimated_minutes: int
    is_optional: bool
    methods: frozenset[CompletionMethod] = frozenset({CompletionMethod.MANUAL})
    """The methods its completion policy allows."""


@dataclass
class TreeGraph:
    """A tree's active skills in learning order (every prerequisite first)."""

    id: str
    slug: str
    order: list[SkillNode] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """One event of the learner: `kind` (ENROLL for enrolling) at `at`, in `tree`."""

    at: datetime
    kind: ProgressEventKind
    tree: TreeGraph
    skill: SkillNode | None = None
    minutes: int = 0
    method: CompletionMethod = CompletionMethod.MANUAL
    score: float | None = None


@dataclass(frozen=True)
class _Work:
    """A skill the learner works on over `sessions` sessions, and completes unless `unfinished`;
    `skips` are the optional skills they skip right before starting it."""

    tree: TreeGraph
    skill: SkillNode
    unfinished: bool
    skips: tuple[SkillNode, ...]
    enrols: bool
    minutes: int
    sessions: int = 1


def learning_dates(learner: LearnerOutline, today: date) -> list[date]:
    """The learner's learning days, oldest first; the last is the day before `today`."""
    dates: list[date] = []
    day = today
    for days_off, run in reversed(learner.learning_days):
        dates[:0] = [day - timedelta(days=n) for n in range(run, 0, -1)]
        day -= timedelta(days=run + days_off)
    return dates


def plan_learning(
    learner: LearnerOutline, trees: dict[str, TreeGraph], now: datetime
) -> list[Step]:
    """Every event of `learner`'s plan, in order (UTC times), each on one of their learning days
    before `now`; every learning day has at least one event that counts for streaks."""
    zone = ZoneInfo(learner.timezone)
    dates = learning_dates(learner, now.astimezone(zone).date())
    work = _apportioned(_work(learner, trees), len(dates))
    sessions = [(item, n) for item in work for n in range(item.sessions)]
    by_day: dict[date, list[tuple[_Work, int]]] = {}
    for k, session in enumerate(sessions):
        # Spread in order: every day gets a session (there are at least as many as days).
        by_day.setdefault(dates[k * len(dates) // len(sessions)], []).append(session)
    steps: list[Step] = []
    for day, day_sessions in by_day.items():
        at = datetime.combine(day, time(learner.hour), zone).astimezone(UTC)
        for item, n in day_sessions:
            at = _session(steps, item, n, at) + BREAK
        if at.astimezone(zone).date() != day or at > now:
            raise ValueError(f"{learner.username}'s sessions of {day} do not fit in the day")
    return steps


def _work(learner: LearnerOutline, trees: dict[str, TreeGraph]) -> list[_Work]:
    """The skills the learner works on, in order, each with the minutes they spend on it."""
    work: list[_Work] = []
    for slug, count in learner.plan:
        tree = trees[slug]
        reached = tree.order[:count] if count is not None else tree.order
        if count is not None and count < len(tree.order):
            reached = [*reached, tree.order[count]]  # the one they are working on
        skips: list[SkillNode] = []
        first = True
        for position, node in enumerate(reached):
            if node.short_name in learner.skips and position != count:
                if not node.is_optional:
                    raise ValueError(f"{slug}: {node.short_name!r} is not optional")
                skips.append(node)
                continue
            unfinished = position == count
            # A little less or more than estimated, varying from skill to skill (under half of
            # it on the skill they are still working on).
            share = 4 if unfinished else 8 + len(work) % 5
            spent = max(1, node.estimated_minutes * share // 10)
            work.append(_Work(tree, node, unfinished, tuple(skips), first, spent))
            skips, first = [], False
        if skips:
            raise ValueError(f"{slug}: nothing is learned after skipping {skips[-1].short_name!r}")
    return work


def _apportioned(work: list[_Work], days: int) -> list[_Work]:
    """`work` with sessions: one each, and as many more as there are days left over, shared by
    minutes (largest remainder first, then the earlier skill)."""
    extra = max(0, days - len(work))
    total = sum(item.minutes for item in work)
    shares = [extra * item.minutes / total for item in work]
    sessions = [1 + int(share) for share in shares]
    left = extra - sum(int(share) for share in shares)
    for i in sorted(range(len(work)), key=lambda i: (int(shares[i]) - shares[i], i))[:left]:
        sessions[i] += 1
    return [replace(item, sessions=n) for item, n in zip(work, sessions, strict=True)]


def _session(steps: list[Step], item: _Work, n: int, at: datetime) -> datetime:
    """Append the events of session `n` of `item` starting at `at`; return when it ends."""
    tree, skill = item.tree, item.skill
    if n == 0:
        if item.enrols:
            steps.append(Step(at, Event.ENROLL, tree))
            at += timedelta(minutes=2)
        for skipped in item.skips:
            steps.append(Step(at, Event.SKIP, tree, skipped))
            at += timedelta(minutes=1)
        steps.append(Step(at, Event.START, tree, skill))
    minutes = item.minutes // item.sessions
    if n == item.sessions - 1:
        minutes += item.minutes % item.sessions
    at += timedelta(minutes=minutes)
    if n < item.sessions - 1 or item.unfinished:
        steps.append(Step(at, Event.ACTIVITY, tree, skill, minutes))
    else:
        method, score = _completion(skill, len(steps))
        steps.append(Step(at, Event.COMPLETE, tree, skill, minutes, method, score))
    return at


def _completion(skill: SkillNode, n: int) -> tuple[CompletionMethod, float | None]:
    """How a skill of its type is completed, as far as its policy allows: an assessment passed
    with a score that varies (deterministically), else marked done. (PROJECT completes only
    through a review a reviewer approves, which the replayed plan does not make: a demo project
    is marked done, which its policy allows.)"""
    if skill.skill_type in (SkillType.PRACTICAL, SkillType.PROJECT) and (
        CompletionMethod.MANUAL in skill.methods
    ):
        return CompletionMethod.MANUAL, None
    if CompletionMethod.ASSESSMENT in skill.methods:
        return CompletionMethod.ASSESSMENT, float(72 + (n * 7) % 28)
    return CompletionMethod.MANUAL, None
