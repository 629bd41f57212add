"""In-process caches are bounded by the bytes their values take, not by how many there are."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from skilltree.app import create_app
from skilltree.cache.memory import MB, MemoryCache
from skilltree.catalog.service import DOCUMENTS
from skilltree.config import get_settings
from skilltree.graph.service import GRAPHS


def sized(budget: int) -> MemoryCache[bytes]:
    return MemoryCache(budget, len)


def test_values_are_kept_while_their_sizes_fit_the_budget() -> None:
    cache = sized(10)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.used == 8
    assert cache.get("a") == b"aaaa"  # now b is the least recently used
    cache.put("c", b"cccc")
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (b"aaaa", b"cccc")
    assert cache.used == 8


def test_one_large_value_pushes_out_many_small_ones() -> None:
    cache = sized(100)
    for key in "abcdefghij":
        cache.put(key, b"x" * 10)
    cache.put("big", b"y" * 95)
    assert [k for k in "abcdefghij" if cache.get(k) is not None] == []
    assert cache.get("big") is not None
    assert cache.used == 95


def test_a_value_larger_than_the_whole_budget_is_not_kept() -> None:
    cache = sized(10)
    cache.put("a", b"aaaa")
    cache.put("huge", b"h" * 11)
    assert cache.get("huge") is None
    assert cache.get("a") == b"aaaa"


def test_replacing_a_value_counts_the_new_size_only() -> None:
    cache = sized(10)
    cache.put("a", b"aaaa")
    cache.put("a", b"aaaaaaaa")
    assert cache.used == 8
    cache.put("a", b"a" * 11)  # too large now: the old copy is gone too, never served stale
    assert cache.get("a") is None
    assert cache.used == 0


def test_a_smaller_budget_forgets_the_least_recently_used() -> None:
    cache = sized(10)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    cache.resize(5)
    assert cache.get("a") is None
    assert cache.get("b") == b"bbbb"
    assert cache.budget == 5


def test_the_api_gives_each_tree_cache_half_of_the_configured_memory(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CACHE_MEMORY_MB", "64")
    get_settings.cache_clear()
    try:
        with TestClient(create_app(engine)):
            assert DOCUMENTS.budget == GRAPHS.budget == 32 * MB
    finally:
        monkeypatch.delenv("CACHE_MEMORY_MB")
        get_settings.cache_clear()
        create_app(engine)  # back to the defaults for the tests after this one
    assert DOCUMENTS.budget == GRAPHS.budget == 128 * MB


def test_a_value_that_grew_is_counted_again_and_may_push_others_out() -> None:
    cache: MemoryCache[bytearray] = MemoryCache(10, len)
    old, grown = bytearray(b"aaaa"), bytearray(b"bbbb")
    cache.put("old", old)
    cache.put("grown", grown)
    grown.extend(b"bbbb")  # e.g. its compressed form was made
    cache.recount("grown", grown)
    assert cache.used == 8
    assert cache.get("old") is None  # the least recently used, beyond the budget
    cache.recount("grown", bytearray(b"other"))  # not the value kept: nothing changes
    assert cache.used == 8
    grown.extend(b"b" * 10)
    cache.recount("grown", grown)  # now larger than the whole budget: not kept
    assert (cache.get("grown"), cache.used) == (None, 0)
