"""Answers compressed when the client accepts it, each body compressed once, not per request.

A body that many requests share (a tree's map or its document for visitors, at one version; a
static file) is a `Compressible`: its gzip form is made by the first request that accepts gzip and
kept with it, so the cache that keeps the body counts both (`size`). Per-viewer answers are small
(a learner's states) or sent as they are.

gzip only: the standard library's zlib. Brotli and zstd would need a new dependency (Python 3.11
has no zstd); not added (the map of 10,000 skills is 392 KiB in gzip already).
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Mapping

from starlette.responses import Response

GZIP_LEVEL = 6
"""zlib's default: the map of 10,000 skills in about 30 ms, once per version; level 9 takes
several times longer for a few percent fewer bytes."""

_counted = threading.Lock()
compressions = 0
"""How many bodies this process has compressed (tests count them: once per version)."""


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header accepts gzip (by name, `x-gzip` or `*`), with a quality
    above zero (RFC 9110, section 12.5.3)."""
    if not accept_encoding:
        return False
    qualities: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[name.strip().lower()] = quality
    for name in ("gzip", "x-gzip", "*"):
        if name in qualities:
            return qualities[name] > 0
    return False


def compress(body: bytes) -> bytes:
    """`body` in gzip (no timestamp: the same body gives the same bytes), counted."""
    global compressions
    with _counted:
        compressions += 1
    return gzip.compress(body, GZIP_LEVEL, mtime=0)


class Compressible:
    """Bytes sent to many, with their gzip form made on first demand, once (thread-safe)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._gzip: bytes | None = None
        self._lock = threading.Lock()

    @property
    def gzipped(self) -> bytes | None:
        """The gzip form if it has been made, else None."""
        return self._gzip

    def gzip(self) -> bytes:
        """The gzip form, made now if it was not yet."""
        if self._gzip is None:
            with self._lock:
                if self._gzip is None:
                    self._gzip = compress(self.raw)
        return self._gzip

    @property
    def size(self) -> int:
        """The bytes this takes: the raw form and the gzip form once made."""
        return len(self.raw) + len(self._gzip or b"")


def respond(
    body: Compressible,
    accept_encoding: str | None,
    *,
    headers: Mapping[str, str],
    status_code: int = 200,
    media_type: str = "application/json",
) -> tuple[Response, bool]:
    """`body` as a response, in gzip when `accept_encoding` accepts it; with whether the gzip
    form was made by this call (the caller's cache then counts its bytes)."""
    answer_headers = dict(headers)
    answer_headers["Vary"] = _vary(answer_headers.get("Vary"))
    if not accepts_gzip(accept_encoding):
        return Response(body.raw, status_code, answer_headers, media_type), False
    made = body.gzipped is None
    answer_headers["Content-Encoding"] = "gzip"
    return Response(body.gzip(), status_code, answer_headers, media_type), made


def _vary(vary: str | None) -> str:
    return f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
