"""graph.packing: every column of a stored graph reads back as it was written."""

from __future__ import annotations

from itertools import accumulate

from hypothesis import given
from hypothesis import strategies as st

from skilltree.graph import packing

# What a PostgreSQL text can hold: any character but NUL (and no lone surrogate: not UTF-8).
texts = st.lists(st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",))))
int32 = st.integers(-(2**31), 2**31 - 1)


@given(texts)
def test_texts_round_trip_whatever_they_hold(values: list[str]) -> None:
    assert packing.unpack_texts(packing.texts(values), len(values)) == values


@given(st.lists(int32), st.lists(st.floats(allow_nan=False)))
def test_numbers_round_trip_little_endian(ints: list[int], floats: list[float]) -> None:
    packed = packing.ints(ints)
    assert len(packed) == 4 * len(ints)
    assert list(packing.unpack_ints(packed)) == ints
    assert packed == b"".join(value.to_bytes(4, "little", signed=True) for value in ints)
    assert list(packing.unpack_floats(packing.floats(floats))) == floats


@given(st.lists(st.none() | st.integers(0, 2**31 - 1)))
def test_unknown_minutes_come_back_as_none(minutes: list[int | None]) -> None:
    assert list(packing.unpack_minutes(packing.minutes(minutes))) == minutes


@given(st.lists(st.lists(st.integers(0, 1000), max_size=4)))
def test_groups_come_back_in_their_order(groups: list[list[int]]) -> None:
    ends = packing.ints(accumulate(map(len, groups)))
    members = packing.ints(value for group in groups for value in group)
    flat, starts, stops = packing.unpack_groups(members, ends)
    assert [list(flat[start:end]) for start, end in zip(starts, stops, strict=True)] == groups


def test_flags_are_a_byte_each() -> None:
    assert packing.flags([True, False, True]) == b"\x01\x00\x01"


@given(texts)
def test_lazy_texts_read_as_the_list_they_pack(values: list[str]) -> None:
    lazy = packing.LazyTexts(packing.texts(values), len(values))
    assert len(lazy) == len(values)
    assert list(lazy) == values
    assert [lazy[i] for i in range(len(values))] == values
    assert lazy[1:3] == values[1:3]


def test_no_groups_at_all() -> None:
    flat, starts, stops = packing.unpack_groups(b"", b"")
    assert (len(flat), len(starts), len(stops)) == (0, 0, 0)
