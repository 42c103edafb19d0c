"""Run the application on uvicorn in a background thread, and stop it cleanly.

The caller's thread keeps the signal handling (the command line's ``StopOnSignal``): ``Server.wait(stop)``
returns when ``stop`` is set or the server ended, and ``Server.stop()`` closes every open stream with code 1001
and a reason, lets uvicorn finish the requests in progress (at most ``grace_s``) and joins the thread.

The listening socket is bound here, before uvicorn starts, so a port in use is an ``InputError`` with one line
rather than a log message from another thread, and port 0 gets a free port (``Server.port``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

from ...errors import InputError
from .limits import ServeOptions


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port``; InputError when it cannot be had."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"--host {host}: expected an address of this machine, got one that does not resolve "
                         f"({exc}); try 127.0.0.1") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise InputError(f"--host {host} --port {port}: expected a free port on an address of this machine, got "
                         f"{exc.strerror or exc}; choose another --port (0 picks a free one)") from None
    sock.set_inheritable(True)
    return sock


class Server:
    """uvicorn serving ``app`` on ``options.host``/``options.port`` from a daemon thread.

    Args:
        app: the ASGI app of ``app.create_app``; options: its ``ServeOptions``.
        access_log: log one line per request (uvicorn's access log, to the logging module).
        grace_s: how long ``stop`` waits for requests in progress.
        sock: a socket from ``bind`` (bound before the models load, so a busy port fails fast); None: bound here.
    """

    def __init__(self, app, options: ServeOptions, *, access_log: bool = False, grace_s: float = 5.0,
                 sock: socket.socket | None = None):
        import uvicorn

        self.app, self.options = app, options
        self.sock = sock or bind(options.host, options.port)
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(app, log_config=None, log_level=logging.INFO if access_log else logging.WARNING,
                                access_log=access_log, ws_max_size=4 * options.max_bytes + 4096,
                                timeout_graceful_shutdown=grace_s, server_header=False)
        self.uvicorn = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="fer-serve", daemon=True)
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        try:
            self.uvicorn.run(sockets=[self.sock])
        except BaseException as exc:  # noqa: BLE001 - reported by ``wait``'s caller
            self.error = exc

    def start(self, timeout_s: float = 30.0) -> "Server":
        """Start serving; returns once uvicorn accepts connections (RuntimeError when it failed to start)."""
        self.thread.start()
        waited = threading.Event()
        while not self.uvicorn.started and self.thread.is_alive() and timeout_s > 0:
            waited.wait(0.02)
            timeout_s -= 0.02
        if not self.uvicorn.started:
            self.stop()
            raise RuntimeError(f"the server did not start ({self.error or 'timed out'})")
        return self

    def wait(self, stop: threading.Event | None = None) -> None:
        """Block until ``stop`` is set or the server thread ended."""
        stop = stop or threading.Event()
        while self.thread.is_alive() and not stop.wait(0.2):
            pass

    def stop(self, reason: str = "server shutting down") -> None:
        """Close the open streams with code 1001 and ``reason``, stop uvicorn, join its thread."""
        loop = getattr(self.app.state, "loop", None)
        if loop is not None and self.thread.is_alive() and not loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self.app.state.hub.close_all(reason=reason), loop).result(5.0)
            except Exception:  # noqa: BLE001 - uvicorn's own shutdown closes whatever is left
                pass
        self.uvicorn.should_exit = True
        if self.thread.is_alive():
            self.thread.join(self.uvicorn.config.timeout_graceful_shutdown + 5.0)
        self.sock.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
