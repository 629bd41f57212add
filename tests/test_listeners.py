"""The process-wide session events are registered in one place (`skilltree.listeners`) by each
entry point at its start, once however often it is asked, never by importing a module; work
scheduled for one of them before is refused. Each case runs in a fresh interpreter: this one has
them registered (tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Prints how many listeners each session event has, by name (only those that have any).
_COUNT = """
from sqlalchemy.orm import Session
def listening():
    dispatch = Session().dispatch
    counts = {name: len(getattr(dispatch, name)) for name in dispatch._event_names}
    return {name: count for name, count in sorted(counts.items()) if count}
"""
REGISTERED = {"after_begin": 1, "after_commit": 3, "after_rollback": 3}


def run(script: str) -> list[str]:
    """What `script` prints, line by line, run in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _COUNT + textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_importing_registers_nothing_and_the_app_registers_each_once() -> None:
    printed = run("""
        import importlib, pkgutil
        import skilltree
        for module in pkgutil.walk_packages(skilltree.__path__, "skilltree."):
            if not module.name.startswith("skilltree.db.migrations"):
                importlib.import_module(module.name)
        print(listening())
        from sqlalchemy import create_engine
        from skilltree.app import create_app
        from skilltree.listeners import register_listeners
        create_app(create_engine("postgresql+psycopg://"))
        print(listening())
        register_listeners()
        create_app(create_engine("postgresql+psycopg://"))
        print(listening())
    """)
    assert printed == ["{}", str(REGISTERED), str(REGISTERED)]


def test_the_command_line_registers_them() -> None:
    printed = run("""
        from typer.testing import CliRunner
        from skilltree.cli import app
        app.command("nothing")(lambda: None)
        result = CliRunner().invoke(app, ["nothing"])
        assert result.exit_code == 0, result.output
        print(listening())
    """)
    assert printed == [str(REGISTERED)]


def test_work_for_a_listener_not_registered_is_refused() -> None:
    printed = run("""
        from sqlalchemy.orm import Session
        from skilltree.cache.trees import forget_after_commit
        from skilltree.db.rls import begin_as_learner
        from skilltree.treefile.repository import analyze_catalog_after_commit
        for schedule in (
            lambda session: begin_as_learner(session, None),
            lambda session: forget_after_commit(session, "tree"),
            analyze_catalog_after_commit,
        ):
            session = Session()
            try:
                schedule(session)
            except RuntimeError as error:
                print(error)
            print(dict(session.info))
    """)
    assert printed == [
        "skilltree.db.rls.switch_at_begin does not listen to sessions' after_begin: call "
        "skilltree.listeners.register_listeners() at start",
        "{}",
        "skilltree.cache.trees.forget_committed does not listen to sessions' after_commit: call "
        "skilltree.listeners.register_listeners() at start",
        "{}",
        "skilltree.treefile.repository.analyze_committed does not listen to sessions' "
        "after_commit: call skilltree.listeners.register_listeners() at start",
        "{}",
    ]
