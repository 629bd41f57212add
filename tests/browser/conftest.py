"""Browser tests: the web app in Debian's Chromium, driven by Playwright, against a live server.

One uvicorn server per test session, in a background thread on a free port, on a database of its
own (its data is committed, not rolled back: tests make their own users and trees with unique
names). Chromium is never downloaded: Playwright launches /usr/bin/chromium (or
$SKILLTREE_CHROMIUM); without it, or without Playwright, these tests are skipped with the reason
(failed under SKILLTREE_REQUIRE_SERVICES=1: tests/services.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.browser.data import committed, unique
from tests.databases import create_database, drop_database, test_database_name
from tests.factories import make_category, make_token, make_user
from tests.services import service_missing

from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.models import (
    Achievement,
    AchievementCategory,
    AchievementRarity,
    User,
    UserRole,
)

CHROMIUM = Path(os.environ.get("SKILLTREE_CHROMIUM", "/usr/bin/chromium"))


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed: pip install -e '.[dev]'"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium)"
    return None


MISSING = _missing()


@pytest.fixture(scope="session")
def live_engine() -> Iterator[Engine]:
    """An engine on the live server's own migrated database."""
    if MISSING:
        service_missing("Chromium", MISSING)
    name = test_database_name("browser")
    engine = create_db_engine(create_database(name))
    migrate.upgrade(engine)
    _first_steps(engine)
    yield engine
    engine.dispose()
    drop_database(name)


def _first_steps(engine: Engine) -> None:
    # The live database has no seed: one achievement, so that earning one can be seen.
    with committed(engine) as session:
        session.add(
            Achievement(
                name="First Knot",
                description="Complete your first skill.",
                category=AchievementCategory.PROGRESS,
                criteria={"type": "skill_completion_count", "threshold": 1},
                xp_reward=5,
                rarity=AchievementRarity.COMMON,
            )
        )


@pytest.fixture(scope="session")
def live_server(live_engine: Engine) -> Iterator[str]:
    """The API and web app served by uvicorn on a free port; answers its base URL."""
    import uvicorn

    from skilltree.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(live_engine), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def browser(live_server: str) -> Iterator[Any]:
    """Debian's Chromium, headless, launched by Playwright (never a downloaded browser)."""
    from playwright.sync_api import expect, sync_playwright

    # Two cores shared with other test runs: be patient before calling a page wrong.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


class PageErrors(list[str]):
    """Uncaught errors and failed-script messages a page reported."""


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


def _refuse_dialog(dialog: Any, errors: PageErrors) -> None:
    # No test expects a dialog: one is an injected alert() or an unplanned confirm().
    errors.append(f"{dialog.type} dialog: {dialog.message}")
    dialog.dismiss()


@pytest.fixture
def new_page(browser: Any, live_server: str, page_errors: PageErrors) -> Iterator[Any]:
    """A factory of pages in fresh browser contexts (own storage); each fails on a script error."""
    contexts: list[Any] = []

    def make(
        *, token: str | None = None, width: int = 1280, height: int = 900, **options: Any
    ) -> Any:
        # `options`: more of Playwright's context options (color_scheme, bypass_csp, ...).
        context = browser.new_context(
            base_url=live_server, viewport={"width": width, "height": height}, **options
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        if token:
            context.add_init_script(
                f"if (location.protocol === 'http:') "
                f"localStorage.setItem('skilltree.token', {json.dumps(token)})"
            )
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.on("dialog", lambda dialog: _refuse_dialog(dialog, page_errors))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not page_errors, page_errors


@pytest.fixture
def author(live_engine: Engine) -> tuple[User, str]:
    """An AUTHOR and a bearer token for them."""
    with committed(live_engine) as session:
        user = make_user(session, UserRole.AUTHOR, username=unique("author").replace("-", "_"))
        token = make_token(session, user)
    return user, token


@pytest.fixture
def category_slug(live_engine: Engine) -> str:
    with committed(live_engine) as session:
        return make_category(session, slug=unique("category"), name=unique("Category")).slug
