"""Skill keys: short, stable, per-tree names that tree files use to refer to skills."""

from __future__ import annotations

import re
from collections.abc import Iterable

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def skill_key(name: str, taken: Iterable[str] = ()) -> str:
    """A kebab-case key made from `name`, with `-2`, `-3`... appended while it is in `taken`."""
    base = _NOT_KEY.sub("-", name.lower()).strip("-")[:90] or "skill"
    used = set(taken)
    key, n = base, 1
    while key in used:
        n += 1
        key = f"{base}-{n}"
    return key
