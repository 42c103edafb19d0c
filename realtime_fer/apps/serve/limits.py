"""What the server allows, as one frozen, validated value (``ServeOptions``).

The defaults are the safe ones: loopback only, no cross-origin access, bounded sizes, streams and waits.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ...errors import InputError

TOKEN_ENV = "REALTIME_FER_TOKEN"
"""The environment variable the command line reads the access token from when ``--token`` is not given."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or "localhost") only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin_ok(origin: str) -> bool:
    scheme, sep, rest = origin.partition("://")
    return scheme in ("http", "https") and bool(sep) and bool(rest) and "/" not in rest and origin.strip() == origin


@dataclass(frozen=True)
class ServeOptions:
    """Address, access and limits of ``realtime-fer serve``.

    Attributes:
        host, port: where to listen (port 0: a free port the system picks).
        token: when set, every route (the page, the API, the WebSocket, the docs) needs it, as
            ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``; None: no token.
        origins: web origins ("https://app.example") allowed cross-origin (CORS and the WebSocket's ``Origin``);
            empty: only pages this server serves itself.
        max_bytes: largest image (request body or WebSocket message) in bytes.
        max_pixels: largest image in pixels (width x height, read from its header before decoding).
        max_streams: WebSocket streams open at once; one more is refused (HTTP 503).
        max_analyze: /v1/analyze requests in progress at once; one more is refused (HTTP 503).
        idle_timeout_s: a stream that sends nothing for this long is closed.
        frame_timeout_s: a frame (or a photo) not recognized within this time is answered with an error.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    origins: tuple[str, ...] = ()
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 25_000_000
    max_streams: int = 4
    max_analyze: int = 4
    idle_timeout_s: float = 60.0
    frame_timeout_s: float = 10.0

    def __post_init__(self):
        if not 0 <= self.port <= 65535:
            raise InputError(f"--port: expected a port number in [0, 65535], got {self.port}; try 8000")
        if self.token is not None and (len(self.token) < 8 or not self.token.isprintable() or " " in self.token):
            raise InputError("--token: expected at least 8 printable characters without spaces, got "
                             f"{len(self.token)} characters; use e.g. python -c 'import secrets; "
                             "print(secrets.token_urlsafe())'")
        bad = [o for o in self.origins if not _origin_ok(o)]
        if bad:
            raise InputError(f"--allow-origin: expected an origin like https://app.example (scheme and host, no "
                             f"path), got {bad[0]!r}")
        checks = (("--max-bytes", self.max_bytes, 1024, 1 << 30), ("--max-pixels", self.max_pixels, 64, 1 << 28),
                  ("--max-streams", self.max_streams, 1, 1000), ("--max-analyze", self.max_analyze, 1, 1000))
        for option, value, low, high in checks:
            if not low <= value <= high:
                raise InputError(f"{option}: expected an integer in [{low}, {high}], got {value}")
        for option, value in (("--idle-timeout", self.idle_timeout_s), ("--frame-timeout", self.frame_timeout_s)):
            if not 0.1 <= value <= 86400:
                raise InputError(f"{option}: expected seconds in [0.1, 86400], got {value}")

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def limits(self) -> dict:
        """The limits as JSON (what /v1/info and the stream's first message report)."""
        return {"max_bytes": self.max_bytes, "max_pixels": self.max_pixels, "max_streams": self.max_streams,
                "max_analyze": self.max_analyze, "idle_timeout_s": self.idle_timeout_s,
                "frame_timeout_s": self.frame_timeout_s, "token_required": self.token is not None,
                "origins": list(self.origins)}
