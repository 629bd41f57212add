"""What the demo teaches with: articles, a video, question banks of every kind, a reviewed
project with a pending submission and a skill completed by time, all in the featured tree
(python-for-data-science), so a newcomer sees the whole loop at once (issue 14, part 9).

Banks, the rubric and the submission are written through the services the API uses (their rules
checked as for any author or learner), after the learners' replayed weeks (a bank makes
ASSESSMENT go through attempts). Idempotent: what exists already is left untouched.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skilltree.assessments import service as assessments
from skilltree.assessments.schemas import QuestionBank
from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.errors import InvalidTransition, SkillLocked
from skilltree.models import ProjectSubmission, Skill, SkillTree, User, UserRole
from skilltree.reviews import repository as reviews_repository
from skilltree.reviews import service as reviews
from skilltree.reviews.schemas import Rubric, SubmissionRequest
from skilltree.seed.learners import DEMO_PASSWORD
from skilltree.seed.rows import Row
from skilltree.seed.spec import load_users

TREE = "python-for-data-science"
"""The tree whose skills teach with everything the engine has."""

AUTHOR: Row = {
    "email": "nora.silva@skilltree.dev",
    "username": "nora_silva",
    "first_name": "Nora",
    "last_name": "Silva",
    "role": UserRole.AUTHOR,
    "is_active": True,
    "email_verified": True,
}
AUTHOR_PROFILE: Row = {
    "bio": "Data scientist and teacher; she wrote the demo's trees and reviews their projects.",
    "location": "Lisbon, Portugal",
    "timezone": "Europe/Lisbon",
    "learning_goals": [],
    "interests": ["teaching", "data-science"],
    "preferences": {"emailNotifications": True, "dailyGoalMinutes": 30, "theme": "system"},
}

TIME_BASED_SKILL = "Jupyter"
TIME_BASED_MINUTES = 45
PROJECT_SKILL = "EDA Project"

VIDEO = (
    "Learn Python - Full Course for Beginners (freeCodeCamp)",
    "https://www.youtube-nocookie.com/embed/rfscVS0vtbw",
)
"""The video module of Python Basics: embedded only from youtube-nocookie (docs/web.md)."""


def _single(id_: str, prompt: str, options: list[str], correct: int, why: str) -> Row:
    return {
        "id": id_,
        "kind": "SINGLE_CHOICE",
        "prompt": prompt,
        "options": [{"id": f"o{n}", "text": text} for n, text in enumerate(options)],
        "correct": f"o{correct}",
        "explanation": why,
    }


def _multiple(id_: str, prompt: str, options: list[str], correct: list[int], why: str) -> Row:
    return {
        "id": id_,
        "kind": "MULTIPLE_CHOICE",
        "prompt": prompt,
        "options": [{"id": f"o{n}", "text": text} for n, text in enumerate(options)],
        "correct": [f"o{n}" for n in correct],
        "explanation": why,
    }


def _numeric(id_: str, prompt: str, answer: float, tolerance: float, why: str) -> Row:
    return {
        "id": id_,
        "kind": "NUMERIC",
        "prompt": prompt,
        "answer": answer,
        "tolerance": tolerance,
        "explanation": why,
    }


def _text(id_: str, prompt: str, accepted: list[str], why: str) -> Row:
    return {
        "id": id_,
        "kind": "SHORT_TEXT",
        "prompt": prompt,
        "accepted": accepted,
        "explanation": why,
    }


def _ordering(id_: str, prompt: str, in_order: list[str], why: str) -> Row:
    return {
        "id": id_,
        "kind": "ORDERING",
        "prompt": prompt,
        "options": [{"id": f"i{n}", "text": text} for n, text in enumerate(in_order)],
        "explanation": why,
    }


_SETTINGS: Row = {"shuffleOptions": True, "passingScore": 70, "cooldownMinutes": 10}

BANKS: dict[str, Row] = {
    "Python Basics": {
        "settings": _SETTINGS,
        "questions": [
            _single(
                "type",
                "What is the type of `7 / 2` in Python 3?",
                ["int", "float", "str", "Decimal"],
                1,
                "`/` is true division and always gives a float (3.5); `//` floors.",
            ),
            _numeric(
                "floor",
                "What does `17 // 5` evaluate to?",
                3,
                0,
                "`//` is floor division: 17 = 3 * 5 + 2.",
            ),
            _text(
                "len",
                "Which built-in function gives the number of characters in a string?",
                ["len", "len()"],
                '`len("hello")` is 5.',
            ),
            _multiple(
                "falsy",
                "Which of these values are falsy?",
                ["0", '""', '"False"', "[]", "None"],
                [0, 1, 3, 4],
                "Zero, empty containers and None are falsy; any non-empty string is truthy.",
            ),
            _ordering(
                "run",
                "Put the steps of running a script in order.",
                [
                    "Write the code in hello.py",
                    "Save the file",
                    "Run `python hello.py` in a terminal",
                    "Read the output",
                ],
                "Python reads the saved file when you run it.",
            ),
        ],
    },
    "NumPy": {
        "settings": _SETTINGS,
        "questions": [
            _numeric(
                "shape",
                "How many elements does `np.zeros((3, 4))` hold?",
                12,
                0,
                "A 3 x 4 array holds 12 elements.",
            ),
            _single(
                "broadcast",
                "What is the shape of `np.ones((3, 1)) + np.ones(4)`?",
                ["(3, 4)", "(3, 1)", "(4,)", "an error"],
                0,
                "Broadcasting stretches the length-1 axis and prepends one: (3, 4).",
            ),
            _text(
                "dtype",
                "Which array attribute tells the type of its elements?",
                ["dtype", ".dtype", "a.dtype"],
                "`a.dtype`, e.g. float64.",
            ),
            _multiple(
                "views",
                "Which of these return a view rather than a copy?",
                ["a[1:3]", "a.reshape(2, -1)", "a[[0, 2]]", "a.T"],
                [0, 1, 3],
                "Basic slicing, reshape (when possible) and transposition give views; "
                "fancy indexing copies.",
            ),
        ],
    },
    "Descriptive Stats": {
        "settings": _SETTINGS,
        "questions": [
            _numeric(
                "mean",
                "What is the mean of 2, 4, 4, 4, 5, 5, 7, 9?",
                5,
                0,
                "The sum is 40 over 8 values.",
            ),
            _numeric(
                "sd",
                "What is the population standard deviation of 2, 4, 4, 4, 5, 5, 7, 9? "
                "(two decimals are enough)",
                2,
                0.01,
                "The squared deviations sum to 32; 32 / 8 = 4; its square root is 2.",
            ),
            _single(
                "robust",
                "Which measure of centre is robust to outliers?",
                ["the mean", "the median", "the range", "the variance"],
                1,
                "One extreme value moves the mean, not the median.",
            ),
            _text(
                "iqr",
                "What is the spread between the first and third quartiles called? "
                "(its abbreviation is fine)",
                ["interquartile range", "IQR"],
                "The interquartile range, Q3 - Q1.",
            ),
        ],
    },
    "Probability": {
        "settings": _SETTINGS,
        "questions": [
            _numeric(
                "dice",
                "Two fair dice are rolled. What is the probability that they sum to "
                "7? (a decimal, e.g. 0.25)",
                1 / 6,
                0.005,
                "6 of the 36 outcomes: 1/6.",
            ),
            _single(
                "normal",
                "About what share of a normal distribution lies within one standard "
                "deviation of its mean?",
                ["50%", "68%", "95%", "99.7%"],
                1,
                "The 68-95-99.7 rule.",
            ),
            _multiple(
                "discrete",
                "Which distributions are discrete?",
                ["Binomial", "Poisson", "Normal", "Exponential"],
                [0, 1],
                "Binomial and Poisson count events; normal and exponential are continuous.",
            ),
        ],
    },
    "Hypothesis Tests": {
        "settings": _SETTINGS,
        "questions": [
            _single(
                "p",
                "A p-value of 0.03 means…",
                [
                    "the null hypothesis is true with probability 3%",
                    "data at least this extreme would occur 3% of the time if the null "
                    "hypothesis were true",
                    "the effect is 3% large",
                ],
                1,
                "A p-value is computed assuming the null hypothesis.",
            ),
            _ordering(
                "steps",
                "Put the steps of a hypothesis test in order.",
                [
                    "State the null and alternative hypotheses",
                    "Choose the significance level",
                    "Compute the test statistic from the data",
                    "Compare the p-value with the significance level",
                ],
                "The level is chosen before the data are looked at.",
            ),
            _text(
                "type1",
                "What is rejecting a true null hypothesis called? (e.g. type X error)",
                ["type I error", "type 1 error", "false positive"],
                "A type I error, whose rate is the significance level.",
            ),
        ],
    },
}
"""The question banks, by skill short name: every question kind, keys and explanations."""

RUBRIC: Row = {
    "criteria": [
        {
            "id": "questions",
            "name": "Questions and data",
            "description": "The analysis asks clear questions of a real data set and says where "
            "the data come from.",
            "levels": [
                {"name": "Missing", "points": 0},
                {"name": "Vague", "points": 1},
                {"name": "Clear", "points": 2},
            ],
            "minimum": 1,
        },
        {
            "id": "cleaning",
            "name": "Cleaning",
            "description": "Missing values, types and outliers are found and handled, with "
            "reasons.",
            "levels": [
                {"name": "Not done", "points": 0},
                {"name": "Partly", "points": 1},
                {"name": "Thorough", "points": 2},
            ],
            "minimum": 1,
        },
        {
            "id": "story",
            "name": "Charts and conclusions",
            "description": "Each chart answers a question; the conclusions follow from them.",
            "levels": [
                {"name": "Unsupported", "points": 0},
                {"name": "Mostly supported", "points": 2},
                {"name": "Convincing", "points": 3},
            ],
            "minimum": 2,
        },
    ]
}

SUBMISSION = SubmissionRequest.model_validate(
    {
        "text": (
            "My EDA of the Palmer penguins data set: three questions (do the species differ in "
            "body mass? does flipper length predict mass? do the islands differ?), missing values "
            "dropped with reasons, and six charts. The notebook runs from top to bottom."
        ),
        "links": [{"title": "Data set", "url": "https://github.com/allisonhorst/palmerpenguins"}],
    }
)

ARTICLES: dict[str, str] = {
    "Python Basics": (
        "Python runs your code line by line. Start the interpreter with `python3` and type:\n\n"
        "```python\n>>> price = 4.5\n>>> quantity = 3\n>>> price * quantity\n13.5\n```\n\n"
        "A **variable** is a name for a value; assigning again rebinds the name. The basic "
        "types are `int`, `float`, `str` and `bool`, and `type(x)` tells which one `x` is.\n\n"
        "- `/` always gives a float, `//` floors, `%` is the remainder.\n"
        "- Strings are immutable: `name.upper()` returns a new string.\n"
        "- Save code in a `.py` file and run it with `python3 file.py`.\n"
    ),
    "Jupyter": (
        "A notebook mixes **code cells** and **Markdown cells**. Run a cell with "
        "*Shift-Enter*; its result shows below it.\n\n"
        "Cells share one kernel, so the order you ran them in matters: before sharing a "
        "notebook, use *Restart & Run All* to prove it runs from top to bottom.\n\n"
        "This skill is completed by time: log at least "
        f"{TIME_BASED_MINUTES} minutes of practice on it.\n"
    ),
    "EDA Project": (
        "Pick a real data set (the [Palmer penguins](https://allisonhorst.github.io/"
        "palmerpenguins/) are a good start), ask three questions of it, clean it, and answer "
        "each question with a chart.\n\n"
        "Submit a link to your notebook and a short summary. A reviewer scores it by the "
        "rubric: **questions and data**, **cleaning**, **charts and conclusions**.\n"
    ),
}
"""Hand-written article bodies by skill short name; other skills get one from their outline."""


def load_author(session: Session) -> str:
    """The demo trees' author (made if missing, with the spec's password); their id."""
    load_users(session, [(AUTHOR, DEMO_PASSWORD, AUTHOR_PROFILE)])
    return session.execute(select(User.id).where(User.email == AUTHOR["email"])).scalar_one()


def load_teaching(session: Session, learner_emails: list[str]) -> None:
    """The banks, the rubric and a pending submission (by the first demo learner who may
    submit it), each only if missing. Written as the tree's author and the learner would."""
    tree = session.execute(select(SkillTree).where(SkillTree.slug == TREE)).scalar_one()
    if tree.created_by is None:  # a demo loaded before the demo had an author: leave it be
        return
    author = session.get_one(User, tree.created_by)
    skills = dict(
        session.execute(select(Skill.short_name, Skill.id).where(Skill.skill_tree_id == tree.id))
        .tuples()
        .all()
    )
    for short_name, bank in BANKS.items():
        if not assessments.has_bank(session, skills[short_name]):
            assessments.put_bank(
                session, skills[short_name], QuestionBank.model_validate(bank), author
            )
    project = skills[PROJECT_SKILL]
    if reviews_repository.rubric(session, project) is None:
        reviews.put_rubric(session, project, Rubric.model_validate(RUBRIC), author)
    submitted = session.execute(
        select(ProjectSubmission.id).where(ProjectSubmission.skill_id == project).limit(1)
    ).first()
    if submitted is None:
        _submit_as_first_able(session, project, learner_emails)


def _submit_as_first_able(session: Session, skill_id: str, emails: list[str]) -> None:
    for email in emails:
        learner = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if learner is None:
            continue
        # As the API submits: as its role, for the signed-in learner (the database checks it).
        act_as_learner(session, learner.id)
        try:
            reviews.submit(session, learner, skill_id, SUBMISSION)
        except (SkillLocked, InvalidTransition):
            continue
        finally:
            act_as_owner(session)
        return
    raise ValueError(f"no demo learner may submit {PROJECT_SKILL!r}: the demo's plans changed")


def article(short_name: str, description: str, objectives: tuple[str, ...]) -> str:
    """A skill's article in Markdown: its hand-written body, else one from its outline."""
    if short_name in ARTICLES:
        return ARTICLES[short_name]
    points = "\n".join(f"- {objective}" for objective in objectives)
    return f"{description}\n\n## What you will be able to do\n\n{points}\n"


def extra_modules(short_name: str) -> list[dict[str, Any]]:
    """Modules a skill has beyond its article and follow-up (the video of Python Basics)."""
    if short_name != "Python Basics":
        return []
    return [
        {
            "title": "Watch: Python for beginners",
            "type": "video",
            "estimatedMinutes": 20,
            "resources": [{"type": "embed", "title": VIDEO[0], "url": VIDEO[1]}],
        }
    ]
