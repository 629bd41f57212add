"""Who may see a tree: everyone once published; before that, its author and admins."""

from __future__ import annotations

from skilltree.models import User, UserRole


def may_view_tree(*, is_published: bool, created_by: str | None, viewer: User | None) -> bool:
    """Whether `viewer` (None when signed out) may see a tree with these facts."""
    if is_published:
        return True
    if viewer is None:
        return False
    return viewer.role is UserRole.ADMIN or (
        viewer.role is UserRole.AUTHOR and created_by == viewer.id
    )
