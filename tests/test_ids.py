"""Row ids have cuid2's shape: a lower-case letter then 23 base-36 digits, all distinct."""

from __future__ import annotations

import re

from skilltree.db.base import new_id, new_ids

CUID2_SHAPE = re.compile(r"^[a-z][0-9a-z]{23}$")


def test_ids_are_cuid2_shaped_and_distinct() -> None:
    ids = [*new_ids(10_000), new_id()]
    assert all(CUID2_SHAPE.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
