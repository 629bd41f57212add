"""What a session records of the device it was started from (no database needed)."""

from __future__ import annotations

import pytest

from skilltree.accounts.service import device_info

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


@pytest.mark.parametrize(
    ("user_agent", "browser", "os", "device_type"),
    [
        (CHROME_ON_WINDOWS, "Chrome", "Windows", "desktop"),
        (SAFARI_ON_IPHONE, "Safari", "iOS", "mobile"),
        (EDGE_ON_MAC, "Edge", "macOS", "desktop"),
    ],
)
def test_browser_os_and_device_are_recognised(
    user_agent: str, browser: str, os: str, device_type: str
) -> None:
    assert device_info(user_agent) == {
        "userAgent": user_agent,
        "browser": browser,
        "os": os,
        "deviceType": device_type,
    }


def test_scripts_are_bots() -> None:
    assert device_info("curl/8.5.0") == {"userAgent": "curl/8.5.0", "deviceType": "bot"}


def test_an_unknown_agent_is_kept_bounded() -> None:
    info = device_info("x" * 2_000)
    assert info == {"userAgent": "x" * 512, "deviceType": "unknown"}


def test_no_user_agent_records_nothing() -> None:
    assert device_info(None) is None
    assert device_info("") is None
