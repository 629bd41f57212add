"""What a session records of the device it was started from, read by ua-parser (no database
needed)."""

from __future__ import annotations

import pytest

from skilltree.accounts.service import MAX_USER_AGENT_CHARS, device_info
from skilltree.documents import MAX_NAME_CHARS

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
EDGE_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize(
    ("user_agent", "recognised"),
    [
        (CHROME_ON_WINDOWS, {"browser": "Chrome", "os": "Windows"}),
        (SAFARI_ON_IPHONE, {"browser": "Mobile Safari", "os": "iOS", "device": "iPhone"}),
        (EDGE_ON_MAC, {"browser": "Edge", "os": "Mac OS X", "device": "Mac"}),
        (GOOGLEBOT, {"browser": "Googlebot", "device": "Spider"}),
        ("curl/8.5.0", {"browser": "curl"}),
    ],
)
def test_browser_os_and_device_are_recognised(user_agent: str, recognised: dict[str, str]) -> None:
    assert device_info(user_agent) == {"userAgent": user_agent, **recognised}


def test_an_unknown_agent_is_kept_bounded() -> None:
    assert device_info("x" * 2_000) == {"userAgent": "x" * MAX_USER_AGENT_CHARS}


def test_a_name_taken_from_the_header_is_cut_not_refused() -> None:
    model = "C" * 300  # ua-parser names an Android device by the model the header gives
    info = device_info(f"Mozilla/5.0 (Linux; Android 13; {model} Build/X)")
    assert info is not None
    assert info["os"] == "Android"
    assert info["device"] == "C" * MAX_NAME_CHARS


def test_nul_characters_are_dropped() -> None:
    info = device_info("curl/8.5.0\x00")
    assert info == {"userAgent": "curl/8.5.0", "browser": "curl"}


def test_no_user_agent_records_nothing() -> None:
    assert device_info(None) is None
    assert device_info("") is None
