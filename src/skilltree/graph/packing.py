"""How a stored graph's columns are laid out (`skill_tree_graphs`, migration 0048): each column of
a tree's skills by place is one `bytea`, written by graph.snapshots and read by graph.repository.

- texts (ids, names): UTF-8, separated by NUL (a PostgreSQL text never holds one);
- numbers: 4-byte integers or 8-byte floats, little-endian, one after another (no estimated
  minutes: -1; the column holds none below 0);
- flags: a byte each, 0 or 1.

Read back with one `split` or one array copy a column instead of a Python object a value made by
the driver: at 100,000 skills the stored graph's row was read in 60-90 ms as PostgreSQL arrays
(its ids alone 20-40) and in under 10 ms this way (measured 2026-12-07).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

SEPARATOR = "\0"
NO_MINUTES = -1
_SWAP = sys.byteorder == "big"  # the bytes are little-endian on every machine
assert array("i").itemsize == 4, "4-byte integers"
assert array("d").itemsize == 8, "8-byte floats"


def texts(values: Iterable[str]) -> bytes:
    return SEPARATOR.join(values).encode()


def unpack_texts(data: bytes, count: int) -> list[str]:
    return data.decode().split(SEPARATOR) if count else []


class LazyTexts(Sequence[str]):
    """`count` texts packed in `data`, unpacked when one is first read: a page of a path or of
    "what next" names a few skills of a tree whose names are 100,000."""

    __slots__ = ("_count", "_data", "_texts")

    def __init__(self, data: bytes, count: int) -> None:
        self._data, self._count = data, count
        self._texts: list[str] | None = None

    def _unpacked(self) -> list[str]:
        if self._texts is None:  # two threads may both unpack: the same list, either kept
            self._texts = unpack_texts(self._data, self._count)
        return self._texts

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        return self._unpacked()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._unpacked())

    def __len__(self) -> int:
        return self._count


def _packed(values: array[int] | array[float]) -> bytes:
    if _SWAP:
        values.byteswap()
    return values.tobytes()


def ints(values: Iterable[int]) -> bytes:
    return _packed(array("i", values))


def floats(values: Iterable[float]) -> bytes:
    return _packed(array("d", values))


def minutes(values: Iterable[int | None]) -> bytes:
    return ints(NO_MINUTES if value is None else value for value in values)


def flags(values: Iterable[int]) -> bytes:
    return bytes(map(bool, values))


# Unpacked as arrays (a copy of the bytes; a value becomes a Python number when read) and
# flags as the bytes themselves: 0 or 1, for reading as truth values.


def unpack_ints(data: bytes) -> array[int]:
    values = array("i", data)
    if _SWAP:
        values.byteswap()
    return values


def unpack_floats(data: bytes) -> array[float]:
    values = array("d", data)
    if _SWAP:
        values.byteswap()
    return values


def unpack_minutes(data: bytes) -> Sequence[int | None]:
    values = unpack_ints(data)
    if NO_MINUTES not in values:  # (a test in C)
        return values
    return [None if value == NO_MINUTES else value for value in values]


def unpack_groups(members: bytes, ends: bytes) -> tuple[array[int], array[int], array[int]]:
    """Groups of `members` one after another, each ending where `ends` says (each skill's
    prerequisites, or dependents, by place): the members, and where each group starts and ends
    among them."""
    stops = unpack_ints(ends)
    return unpack_ints(members), (array("i", [0]) + stops)[:-1], stops
