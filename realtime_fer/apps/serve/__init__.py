"""``realtime-fer serve``: the recognizer over HTTP and WebSocket, with a live page (the ``serve`` extra).

Modules: ``limits`` (``ServeOptions``), ``images`` (image bytes -> frames within limits), ``models`` (the shared
recognizers and their worker thread), ``guard`` (token, origin, body size), ``stream`` (``WS /v1/stream``),
``app`` (the FastAPI application), ``server`` (uvicorn in a thread, clean stop), ``static/`` (the page).

Library use::

    from realtime_fer.apps.serve import Recognizers, ServeOptions, Server, create_app

    options = ServeOptions(port=0)
    models = Recognizers.open()  # --camera's defaults for streams, --image's for photos
    with Server(create_app(models, options), options) as server:
        print(server.url)  # serve until the with-block ends
    models.close()

Only ``limits`` is imported here: FastAPI and uvicorn load when ``app`` or ``server`` is imported.
"""

from .limits import TOKEN_ENV, ServeOptions  # noqa: F401


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Server":
        from .server import Server

        return Server
    if name == "Recognizers":
        from .models import Recognizers

        return Recognizers
    raise AttributeError(name)
