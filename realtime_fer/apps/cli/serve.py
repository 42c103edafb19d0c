"""``realtime-fer serve``: the recognizer over HTTP and WebSocket with a live page (``apps.serve``).

Prints where it listens and a warning when that is beyond this machine; Ctrl-C / SIGTERM close the open streams
with a reason and exit with 130 / 143, like every other mode.
"""

from __future__ import annotations

import argparse
import os

from ...errors import MissingDependencyError
from ..console import EXIT_OK, EXIT_RUNTIME, EXIT_SIGNAL, StopOnSignal, say, warn
from .arguments import add_run_arguments, run_options, subcommand_parser

SUMMARY = "the recognizer over HTTP and WebSocket, with a live camera page (pip extra 'serve')"


def build_parser() -> argparse.ArgumentParser:
    from ..serve.limits import TOKEN_ENV, ServeOptions

    default = ServeOptions()
    parser = subcommand_parser("serve", "Serve the recognizer: a live camera page at /, WS /v1/stream, "
                               "POST /v1/analyze, /healthz, /v1/info and the API docs at /docs (docs/serving.md).",
                               epilog="Streams use --camera's defaults (live temporal stage), /v1/analyze uses "
                                      "--image's; the recognizer options below apply to both.")
    group = parser.add_argument_group("server")
    group.add_argument("--host", default=default.host, help="address to listen on (default 127.0.0.1: this machine "
                       "only; another address is a warning: use --token and TLS in front)")
    group.add_argument("--port", type=int, default=default.port, help="TCP port (default 8000; 0 picks a free one)")
    group.add_argument("--token", default=None, help=f"require this token on every route, as 'Authorization: "
                       f"Bearer TOKEN' or ?token=TOKEN (default: ${TOKEN_ENV}, else none)")
    group.add_argument("--allow-origin", dest="origins", action="append", default=[], metavar="ORIGIN",
                       help="a web origin (https://app.example) whose pages may call the API and open streams; "
                            "repeatable (default: only this server's own page)")
    group.add_argument("--max-bytes", type=int, default=default.max_bytes, metavar="N",
                       help=f"largest image or request body in bytes (default {default.max_bytes})")
    group.add_argument("--max-pixels", type=int, default=default.max_pixels, metavar="N",
                       help=f"largest image in pixels, width x height (default {default.max_pixels})")
    group.add_argument("--max-streams", type=int, default=default.max_streams, metavar="N",
                       help=f"WebSocket streams open at once; more get HTTP 503 (default {default.max_streams})")
    group.add_argument("--max-analyze", type=int, default=default.max_analyze, metavar="N",
                       help=f"/v1/analyze requests in progress at once (default {default.max_analyze})")
    group.add_argument("--idle-timeout", type=float, default=default.idle_timeout_s, metavar="S",
                       help=f"close a stream that sent nothing for S seconds (default {default.idle_timeout_s:g})")
    group.add_argument("--frame-timeout", type=float, default=default.frame_timeout_s, metavar="S",
                       help=f"answer a frame or photo not recognized within S seconds with an error (default "
                            f"{default.frame_timeout_s:g})")
    add_run_arguments(parser, "serve")
    return parser


def serve_options(args):
    from ..serve.limits import TOKEN_ENV, ServeOptions

    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    return ServeOptions(host=args.host, port=args.port, token=token, origins=tuple(args.origins),
                        max_bytes=args.max_bytes, max_pixels=args.max_pixels, max_streams=args.max_streams,
                        max_analyze=args.max_analyze, idle_timeout_s=args.idle_timeout,
                        frame_timeout_s=args.frame_timeout)


def _require_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(f"serve: expected the 'serve' extra (FastAPI, uvicorn, python-multipart), got "
                                     f"{exc}; pip install 'realtime-fer[serve]'") from None


def run(args, stop: StopOnSignal) -> int:
    """Serve until Ctrl-C / SIGTERM; the exit code."""
    options = serve_options(args)
    stream_options, still_options = run_options(args, "camera"), run_options(args, "image")
    _require_extra()
    from ..serve.app import create_app
    from ..serve.models import Recognizers
    from ..serve.server import Server, bind

    sock = bind(options.host, options.port)  # a busy port fails before the models load
    if not options.loopback:
        warn(f"--host {options.host}: listening beyond this machine; anyone who reaches port "
             f"{sock.getsockname()[1]} can use the recognizer" + ("" if options.token else " (no --token set)")
             + ", and traffic is not encrypted: put a TLS reverse proxy in front (docs/serving.md)")
    try:
        models = Recognizers.open(stream_options, still_options)
    except BaseException:
        sock.close()
        raise
    try:
        server = Server(create_app(models, options), options, access_log=args.verbose, sock=sock).start()
        token_note = " (token required: add ?token=TOKEN)" if options.token else ""
        say(f"serving on {server.url}/{token_note}, API docs at {server.url}/docs, {models.stream.provider}; "
            "Ctrl-C stops")
        server.wait(stop.event)
        server.stop()
    finally:
        models.close()
    if stop.signum is not None:
        say("stopped; open streams were closed with code 1001")
        return EXIT_SIGNAL[stop.signum]
    if server.error is not None:
        warn(f"the server stopped by itself ({server.error or 'no reason given'})")
        return EXIT_RUNTIME
    return EXIT_OK
