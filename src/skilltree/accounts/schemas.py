"""Accounts API shapes: registration, login and the signed-in user (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import (
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from skilltree.models.enums import UserRole
from skilltree.schemas import NOT_BLANK, CamelModel, exactly_one_of

Username = Annotated[
    str, StringConstraints(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NOT_BLANK)
]


_RESERVED_DOMAINS = "|".join(
    "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in name)
    for name in SPECIAL_USE_DOMAIN_NAMES
)
EMAIL_PATTERN = rf"^(?![^@]*@(?:[^@]*\.)?(?:{_RESERVED_DOMAINS})$)"
"""For the OpenAPI document: EmailStr's validator refuses the special-use domains (`.test`,
`.local`, ...) whatever their case, which the `email` format alone does not say."""


class RegisterRequest(CamelModel):
    """A new account; the email is stored lower-cased. The password may not be a common one nor
    contain the username or the email's local part (`errors` says which)."""

    email: Annotated[EmailStr, Field(json_schema_extra={"pattern": EMAIL_PATTERN})]
    username: Username
    password: Password
    first_name: PersonName | None = None
    last_name: PersonName | None = None


class LoginRequest(CamelModel):
    """Sign in with the email or the username (exactly one of them) and the password."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("email", "username"))

    email: Annotated[str, StringConstraints(min_length=1, max_length=320)] | None = None
    username: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]

    @model_validator(mode="after")
    def _one_login(self) -> LoginRequest:
        if (self.email is None) == (self.username is None):
            raise ValueError("give exactly one of email and username")
        return self


class ProfileOut(CamelModel):
    """A user's profile, gamification totals and learning statistics."""

    bio: str | None
    location: str | None
    website: str | None
    timezone: str | None
    learning_goals: list[str]
    interests: list[str]
    preferences: dict[str, Any]
    total_xp: int
    current_level: int
    current_streak: int
    max_streak: int
    last_activity_at: datetime | None
    skills_completed: int
    hours_learned: float
    trees_started: int
    trees_completed: int
    created_at: datetime
    updated_at: datetime


class UserOut(CamelModel):
    """A user as the API shows it to themselves (never the password hash)."""

    id: str
    email: str
    username: str
    role: UserRole
    """LEARNER, AUTHOR (may create trees and change their own) or ADMIN."""
    first_name: str | None
    last_name: str | None
    avatar_url: str | None
    is_active: bool
    email_verified: bool
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
    profile: ProfileOut | None


class SignedInOut(CamelModel):
    """A new session's bearer token (shown once) and its user."""

    token: str
    user: UserOut
