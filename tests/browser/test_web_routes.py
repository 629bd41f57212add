"""The web app is served by the API process from files inside the package (no browser needed)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from skilltree.web.router import STATIC_DIR


def test_the_page_is_served_at_the_root_with_a_strict_content_security_policy(
    client: TestClient,
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/js/main.js">' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "unsafe-inline" not in policy


def test_assets_are_served_from_the_package(client: TestClient) -> None:
    script = client.get("/static/js/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert client.get("/static/css/app.css").headers["content-type"].startswith("text/css")


def test_nothing_outside_the_static_folder_is_served(client: TestClient) -> None:
    assert client.get("/static/../router.py").status_code == 404
    assert client.get("/static/%2e%2e/router.py").status_code == 404
    assert client.get("/static/js/missing.js").status_code == 404


def test_every_module_the_scripts_import_exists() -> None:
    scripts = sorted(STATIC_DIR.rglob("*.js"))
    assert scripts
    for script in scripts:
        for target in re.findall(r'^import .*? from "(\.{1,2}/[^"]+)";$', script.read_text(), re.M):
            assert (script.parent / target).resolve().is_file(), f"{script.name} imports {target}"


def test_no_script_inserts_markup() -> None:
    # Every node is built with createElement and textContent: user content never becomes HTML.
    for script in STATIC_DIR.rglob("*.js"):
        text = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{script.name} uses {sink}"
