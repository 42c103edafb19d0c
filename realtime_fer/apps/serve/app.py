"""The ASGI application: the page, the API, the stream and the docs (FastAPI on Starlette).

Routes (docs/serving.md has the message formats):

* ``GET /``: the live page (``static/``: plain HTML/JS/CSS shipped in the package, nothing from elsewhere).
* ``WS /v1/stream``: frames in, one JSON reply per recognized frame out (``stream``).
* ``POST /v1/analyze``: one photo (the raw bytes, or multipart with one file) -> its faces, as ``--image``.
* ``GET /healthz``, ``GET /v1/info``; ``GET /openapi.json`` and ``GET /docs`` (an offline page of the routes).

Every route is behind ``guard.Guard`` (token, origin, body size). No route takes a path from a request: the page's
three files are read from the package once, by fixed names.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import time
from importlib import resources
from urllib.parse import quote

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ... import __version__
from .guard import Guard, error_body, request_token
from .images import ImageRejected, decode_image
from .limits import ServeOptions
from .models import Recognizers, face_rows
from .stream import StreamHub

STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' blob: data:; "
                                           "media-src 'self' blob: mediastream:; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
IMAGE_TYPES = ("image/jpeg", "image/png", "application/octet-stream")
ANALYZE_BODY = {"requestBody": {"required": True, "content": {
    **{t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}}}}}


def _static(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def create_app(models: Recognizers, options: ServeOptions) -> FastAPI:
    """The application serving ``models`` within ``options``' limits (it does not own ``models``: close them
    after the server stopped)."""
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.loop = asyncio.get_running_loop()  # where ``server.Server`` closes the streams from
        yield
        await app.state.hub.close_all()

    app = FastAPI(title="realtime-fer", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Facial expression recognition over HTTP and WebSocket (docs/serving.md).")
    hub = StreamHub(models, options)
    app.state.hub, app.state.models, app.state.options = hub, models, options
    app.state.analyzing = 0
    _add_page_routes(app, options)

    @app.get("/healthz", summary="Liveness: 200 while the server runs")
    async def healthz():
        return {"status": "ok", "streams": len(hub.streams)}

    @app.get("/v1/info", summary="Version, provider, models with their sha256, limits")
    async def info():
        return {**models.info, "limits": options.limits(), "streams": len(hub.streams),
                "streams_refused": hub.refused}

    @app.post("/v1/analyze", summary="One photo (JPEG/PNG bytes, or multipart with one file) -> its faces",
              openapi_extra=ANALYZE_BODY)
    async def analyze(request: Request):
        return await _analyze(request, models, options)

    @app.websocket("/v1/stream")
    async def stream(websocket: WebSocket):
        await hub.serve(websocket)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs(request: Request):
        return HTMLResponse(_docs_page(app.openapi(), request_token(request.scope) if options.token else None),
                            headers=PAGE_HEADERS)

    _add_middleware(app, options)
    return app


def _add_page_routes(app: FastAPI, options: ServeOptions) -> None:
    """``GET /`` (the live page, the token carried into its links) and ``GET /static/NAME`` (the page's files, read
    from the package once)."""
    files = {name: _static(name) for name in ("index.html", *STATIC)}

    @app.get("/", response_class=HTMLResponse, summary="The live page: camera or a dropped photo, with overlays")
    async def page(request: Request):
        token = request.query_params.get("token") if options.token else None
        query = html.escape(f"?token={quote(token, safe='')}") if token else ""
        return HTMLResponse(files["index.html"].replace("{{query}}", query), headers=PAGE_HEADERS)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str):
        if name not in STATIC:  # fixed names only: nothing is looked up on disk by a request
            return _error(404, "not_found", f"static file: expected one of {sorted(STATIC)}, got {name!r}")
        return Response(files[name], media_type=STATIC[name], headers=PAGE_HEADERS)


def _add_middleware(app: FastAPI, options: ServeOptions) -> None:
    """CORS for the named origins only (none: off), then the guard (token, origin, host, body size), added last so
    it runs first."""
    if options.origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(options.origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(Guard, options=options)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(code, message), status)


async def _image_bytes(request: Request) -> bytes:
    """The photo of an analyze request: the body, or the one file of a multipart form (ImageRejected when the form
    holds none)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=4) as form:
            uploads = [v for v in form.values() if hasattr(v, "read")]
            if not uploads:
                raise ImageRejected("no_file", 400, "multipart form: expected one file field (e.g. file=@photo.jpg), "
                                                    "got none; attach the photo as a file")
            return await uploads[0].read()
    return await request.body()


async def _analyze(request: Request, models: Recognizers, options: ServeOptions):
    """A photo's reply. Its ``max_analyze`` slot is held until its recognition is done, also after a 504: a photo
    that timed out still waits for (or runs on) the worker thread, and the next ones must not queue up behind it
    without bound."""
    state = request.app.state
    if state.analyzing >= options.max_analyze:
        return _error(503, "busy", f"analyze: expected at most {options.max_analyze} photos in progress, got one "
                                   "more; try again shortly")
    state.analyzing += 1
    job = None
    try:
        started = time.perf_counter()
        try:
            data = await _image_bytes(request)
            image = await asyncio.to_thread(decode_image, data, options.max_bytes, options.max_pixels)
        except ImageRejected as exc:
            return JSONResponse(exc.as_json(), exc.status)
        decoded = time.perf_counter()
        job = asyncio.get_running_loop().run_in_executor(models.pool, models.analyze, image)
        job.add_done_callback(lambda _job: _release(state))
        try:
            result = await asyncio.wait_for(asyncio.shield(job), options.frame_timeout_s)
        except (asyncio.TimeoutError, TimeoutError):
            return _error(504, "timeout", f"analyze: expected a result within {options.frame_timeout_s:g} s, got "
                                          "none (the server is busy); try again or send a smaller photo")
        done = time.perf_counter()
        return {"width": image.shape[1], "height": image.shape[0], "labels": list(result.labels),
                "faces": face_rows(result),
                "timings_ms": {"decode": round((decoded - started) * 1e3, 3),
                               "recognize": round((done - decoded) * 1e3, 3)}}
    finally:
        if job is None:  # refused or failed before recognition: the slot is free now
            _release(state)


def _release(state) -> None:
    state.analyzing -= 1


def _docs_page(spec: dict, token: str | None) -> str:
    """A self-contained HTML list of the routes of the OpenAPI ``spec`` (no script, nothing fetched)."""
    rows = []
    for path, methods in spec.get("paths", {}).items():
        for method, operation in methods.items():
            rows.append(f"<tr><td>{method.upper()}</td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(operation.get('summary', ''))}</td></tr>")
    rows.append("<tr><td>WS</td><td><code>/v1/stream</code></td><td>Binary JPEG/PNG frames in, one JSON reply per "
                "recognized frame out (?fps=F: frames of an F fps video)</td></tr>")
    query = html.escape(f"?token={quote(token, safe='')}") if token else ""
    return (f"<!doctype html><meta charset=utf-8><title>realtime-fer API</title><h1>realtime-fer {__version__} "
            f"API</h1><p>The OpenAPI document: <a href=\"openapi.json{query}\">openapi.json</a>. Message formats, "
            "limits and client examples: docs/serving.md.</p><table border=1 cellpadding=4>"
            "<tr><th>method</th><th>path</th><th>what</th></tr>" + "".join(rows) + "</table>")
