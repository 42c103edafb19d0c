"""The checks every request passes before it reaches a route: token, origin, body size (an ASGI middleware).

* Token: when the server has one, each HTTP request and each WebSocket handshake must carry it, as
  ``Authorization: Bearer TOKEN`` or as ``?token=TOKEN`` (a browser cannot set headers on a WebSocket or on a
  page it navigates to); compared in constant time. Else HTTP 401.
* Origin: a request whose ``Origin`` header names another site than the one it was sent to (``Host``) is refused
  with HTTP 403 unless that origin was allowed (``ServeOptions.origins``). Browsers send ``Origin`` with every
  WebSocket handshake and cross-origin ``fetch``, and a WebSocket is not covered by CORS, so this check is what
  keeps a page on another site from using a server on the visitor's own machine. CORS preflights of allowed
  origins pass without the token (browsers send none with them).
* Host: a server listening on a loopback address answers only requests addressed to a loopback name
  (``localhost``, ``127.0.0.1``, ``[::1]``) or to the host of an allowed origin, else HTTP 403: a web page
  whose own name was made to resolve to 127.0.0.1 ("DNS rebinding") would otherwise pass the origin check.
* Body: a request body over ``max_bytes`` (by ``Content-Length``, or counted while it arrives) gets HTTP 413.

A refused WebSocket handshake is answered with the same HTTP status and JSON body where the server supports the
ASGI WebSocket denial response (uvicorn and Starlette's test client do), else accepted and closed at once with
code 1008 (``CLOSE_POLICY``; the stream limit: 1013, shutting down: 1001) and the reason.
"""

from __future__ import annotations

import hmac
import json
from urllib.parse import parse_qs, urlsplit

from .limits import ServeOptions, is_loopback

CLOSE_POLICY = 1008
"""WebSocket close code of a refused handshake where no HTTP denial response is possible."""


class BodyTooLarge(Exception):
    """A request body grew past the limit while it was read."""


def error_body(code: str, message: str) -> dict:
    """The JSON body of every error the server answers: ``{"error": CODE, "message": ONE_LINE}``."""
    return {"error": code, "message": message}


def too_large_message(limit: int, got: str) -> str:
    return f"request body: expected at most {limit} bytes, got {got}; send a smaller image or raise the server's " \
           "--max-bytes"


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def request_token(scope) -> str | None:
    """The token a request carries (Authorization: Bearer, else ``?token=``), or None."""
    auth = _header(scope, b"authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[-1] if values else None


def origin_allowed(scope, origins: tuple[str, ...]) -> bool:
    """No ``Origin`` header (not a browser's cross-site request), the server's own site, or a named origin."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    if origin in origins:
        return True
    host = _header(scope, b"host")
    return bool(host) and origin != "null" and urlsplit(origin).netloc.lower() == host.lower()


def host_allowed(scope, origins: tuple[str, ...]) -> bool:
    """The ``Host`` header names this machine (a loopback name) or the host of one of ``origins``."""
    host = urlsplit("//" + (_header(scope, b"host") or "")).hostname or ""
    return is_loopback(host) or host in {urlsplit(o).hostname for o in origins}


class Guard:
    """ASGI middleware applying ``ServeOptions``' token, origin and body limits to ``app``."""

    def __init__(self, app, options: ServeOptions):
        self.app, self.options = app, options

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        problem = self._problem(scope)
        if problem is not None:
            return await refuse(scope, receive, send, *problem)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        return await self._limited(scope, receive, send)

    def _problem(self, scope) -> tuple[int, str, str] | None:
        options = self.options
        if options.loopback and not host_allowed(scope, options.origins):
            return 403, "host_not_allowed", (f"Host {_header(scope, b'host')!r}: expected this machine's name "
                                             "(localhost, 127.0.0.1, [::1]) or the host of an --allow-origin, got "
                                             "another; behind a reverse proxy pass --allow-origin https://PUBLIC.HOST")
        if not origin_allowed(scope, options.origins):
            return 403, "origin_not_allowed", (f"origin {_header(scope, b'origin')!r}: expected this server's own "
                                               "page or an origin the server allows (--allow-origin), got another "
                                               "site; start the server with --allow-origin for it")
        preflight = scope["type"] == "http" and scope.get("method") == "OPTIONS" and \
            _header(scope, b"access-control-request-method") is not None
        if options.token is not None and not preflight:
            given = request_token(scope)
            if given is None or not hmac.compare_digest(given.encode(), options.token.encode()):
                what = "no token" if given is None else "a wrong token"
                return 401, "unauthorized", (f"token: expected the server's token as 'Authorization: Bearer TOKEN' "
                                             f"or ?token=TOKEN, got {what}; ask whoever runs the server for it")
        return None

    async def _limited(self, scope, receive, send):
        limit = self.options.max_bytes
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await refuse(scope, receive, send, 413, "too_large", too_large_message(limit, length))
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await refuse(scope, receive, send, 413, "too_large", too_large_message(limit, "more"))


async def refuse(scope, receive, send, status: int, code: str, message: str,
                 close_code: int = CLOSE_POLICY) -> None:
    """Answer an HTTP request, or refuse a WebSocket handshake, with ``status`` and a JSON error body (a handshake
    where the server has no HTTP denial response: accepted, then closed with ``close_code`` and the message)."""
    body = json.dumps(error_body(code, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    connect = await receive()
    if connect.get("type") != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": close_code, "reason": message[:120]})
