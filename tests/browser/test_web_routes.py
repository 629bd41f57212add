"""The web app is served by the API process from files inside the package (no browser needed)."""

from __future__ import annotations

import gzip
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_category, make_tree

from skilltree import compression
from skilltree.web.router import STATIC_DIR, _summary

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


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


def raw(client: TestClient, url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """The answer's status, headers and bytes as sent (not decoded)."""
    with client.stream("GET", url, headers=headers) as answer:
        return answer.status_code, dict(answer.headers), b"".join(answer.iter_raw())


def test_assets_are_compressed_once_when_the_client_accepts_gzip(client: TestClient) -> None:
    plain_status, plain_headers, plain = raw(client, "/static/js/main.js", **IDENTITY)
    before = compression.compressions
    status, headers, packed = raw(client, "/static/js/main.js", **GZIP)
    raw(client, "/static/js/main.js", **GZIP)

    assert (plain_status, status) == (200, 200)
    assert "content-encoding" not in plain_headers
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed) == plain == (STATIC_DIR / "js/main.js").read_bytes()
    assert "javascript" in headers["content-type"]
    assert "Accept-Encoding" in headers["vary"]
    assert "Accept-Encoding" in plain_headers["vary"]
    assert headers["etag"] == "W/" + plain_headers["etag"]  # another representation
    assert compression.compressions <= before + 1  # once per file (maybe before this test)
    again = raw(client, "/static/js/main.js", **GZIP, **{"If-None-Match": headers["etag"]})
    assert again[0] == 304


def test_an_asset_is_compressed_once_however_often_it_is_asked_for(client: TestClient) -> None:
    raw(client, "/static/css/app.css", **GZIP)
    before = compression.compressions
    for _ in range(3):
        status, headers, _ = raw(client, "/static/css/app.css", **GZIP)
        assert (status, headers["content-encoding"]) == (200, "gzip")
    assert compression.compressions == before


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


def test_a_tree_page_carries_link_preview_tags_naming_the_tree(
    client: TestClient, session: Session
) -> None:
    tree = make_tree(
        session,
        make_category(session),
        name='Knots <b>&</b> "Sails"',
        short_description="Tie <script>alert(1)</script> knots & sail.",
    )
    session.commit()
    response = client.get(f"/trees/{tree.slug}", params={"skill": "x", "view": "1,2,0.5"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    page = response.text
    title = "Knots &lt;b&gt;&amp;&lt;/b&gt; &quot;Sails&quot; · SkillTree"
    description = "Tie &lt;script&gt;alert(1)&lt;/script&gt; knots &amp; sail."
    assert f"<title>{title}</title>" in page
    assert f'<meta property="og:title" content="{title}">' in page
    assert f'<meta name="twitter:title" content="{title}">' in page
    assert f'<meta property="og:description" content="{description}">' in page
    assert f'<meta name="twitter:description" content="{description}">' in page
    assert '<meta name="twitter:card" content="summary">' in page
    url = f"http://testserver/trees/{tree.slug}"
    assert f'<meta property="og:url" content="{url}">' in page
    assert f'<link rel="canonical" href="{url}">' in page
    assert "<script>alert" not in page
    assert "<b>" not in page
    # The same app: its script, once.
    assert page.count('<script type="module" src="/static/js/main.js">') == 1
    assert client.head(f"/trees/{tree.slug}").status_code == 200


def test_a_draft_or_unknown_tree_page_names_no_tree(client: TestClient, session: Session) -> None:
    draft = make_tree(session, make_category(session), name="Secret plans", is_published=False)
    session.commit()
    for slug in (draft.slug, "no-such-tree"):
        response = client.get(f"/trees/{slug}")
        assert response.status_code == 404
        assert "<title>SkillTree</title>" in response.text
        assert '<meta property="og:title" content="SkillTree">' in response.text
        assert "Secret plans" not in response.text


def test_a_long_description_is_cut_at_a_word() -> None:
    text = " ".join(["word"] * 100)
    summary = _summary(text)
    assert len(summary) <= 200
    assert summary.endswith("word…")
