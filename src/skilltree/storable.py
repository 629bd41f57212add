"""Input PostgreSQL can store: text without NUL characters or lone surrogates, JSON of sane depth.

PostgreSQL's `text` and `jsonb` cannot hold U+0000, and a lone surrogate (U+D800 to U+DFFF without
its pair, which only JSON's `\\ud800` escape can make) has no UTF-8 form at all; a JSON value
nested hundreds of levels deep parses, then breaks whatever serialises it next. Each failed deep
in a request, as a 500. So every input is checked where it enters (`refuse_unstorable_input` for
every path, query and JSON body of the API; `parse_json` for tree files; `validate_document` for
every JSON column) and refused at its place.
"""

from __future__ import annotations

import re

from skilltree.errors import FieldError

MAX_JSON_DEPTH = 32
"""How deep arrays and objects may nest in a request body or a JSON document (ours go 5 deep)."""
NUL_MESSAGE = "must not contain NUL characters"
SURROGATE_MESSAGE = "must be valid Unicode (a lone surrogate cannot be stored)"

_MAYBE_UNSTORABLE = re.compile(rb"\x00|\\u0000|\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
"""In raw JSON: a NUL escape, a surrogate escape (paired ones too), a surrogate's UTF-8 form, or
a NUL byte (UTF-16 and UTF-32 JSON hold them; UTF-8 JSON never does)."""


def text_problem(text: str) -> FieldError | None:
    """Why PostgreSQL cannot store `text` (located nowhere yet), or None when it can."""
    if "\x00" in text:
        return FieldError(loc=(), msg=NUL_MESSAGE, type="string_nul")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return FieldError(loc=(), msg=SURROGATE_MESSAGE, type="string_surrogate")
    return None


def check_text(text: str) -> str:
    """`text`, or ValueError saying why PostgreSQL cannot store it (for Pydantic validators)."""
    problem = text_problem(text)
    if problem is not None:
        raise ValueError(problem.msg)
    return text


def unstorable(
    value: object, at: tuple[str | int, ...] = (), *, max_depth: int | None = MAX_JSON_DEPTH
) -> list[FieldError]:
    """Every string and object key in the JSON value `value` that PostgreSQL cannot store, and
    every array or object nested more than `max_depth` levels deep (None: any depth), each
    located from `at` (a key by the path of its member), in document order. Iterative: a deep
    value costs no stack."""
    found: list[FieldError] = []
    pending: list[tuple[object, tuple[str | int, ...], int]] = [(value, at, 0)]
    while pending:
        item, path, depth = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                found.append(FieldError(loc=path, msg=problem.msg, type=problem.type))
        elif isinstance(item, dict | list) and max_depth is not None and depth >= max_depth:
            found.append(
                FieldError(loc=path, msg=f"nested more than {max_depth} deep", type="json_depth")
            )
        elif isinstance(item, dict):
            for key, member in reversed(item.items()):
                member_path = (*path, _shown(key))
                pending.append((member, member_path, depth + 1))
                pending.append((key, member_path, depth + 1))
        elif isinstance(item, list):
            pending.extend(
                (member, (*path, i), depth + 1) for i, member in reversed(list(enumerate(item)))
            )
    return found


def _shown(key: str) -> str:
    # A location is sent back in a JSON answer, which cannot carry a lone surrogate: escape it.
    return key.encode("utf-8", "backslashreplace").decode() if text_problem(key) else key


def unstorable_text_in_json(raw: bytes, value: object) -> list[FieldError]:
    """The text problems (`unstorable`, any depth) of `value`, the JSON value parsed from `raw`;
    a scan of `raw` that finds nothing suspicious (nearly always) spares the walk of a value
    that may be megabytes."""
    if not _MAYBE_UNSTORABLE.search(raw):
        return []
    return unstorable(value, max_depth=None)
