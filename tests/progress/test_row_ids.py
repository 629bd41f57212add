"""Row ids the engine makes (`new_row_id()`, migration 0031) are shaped as the app's own
(`skilltree.db.base.new_ids`): a letter, then 23 base-36 digits, every one of them in use."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

CUID = re.compile(r"[a-z][0-9a-z]{23}")


def test_engine_row_ids_are_cuid_shaped_distinct_and_use_every_digit(session: Session) -> None:
    ids = list(session.scalars(text("SELECT new_row_id() FROM generate_series(1, 3000)")))
    assert all(CUID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert {i[0] for i in ids} == set("abcdefghijklmnopqrstuvwxyz")
    for place in range(1, 24):
        assert {i[place] for i in ids} == set("0123456789abcdefghijklmnopqrstuvwxyz")
