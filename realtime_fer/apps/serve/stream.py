"""``WS /v1/stream``: binary JPEG/PNG frames in, one JSON reply per recognized frame out.

Per connection two tasks run: the receiver takes every message at once (an error reply right away for one that is
not a JPEG/PNG of allowed size, or a text message that is no known command) and puts frames into a one-frame
mailbox; the processor takes the mailbox's frame and decodes and recognizes it on the recognizer thread
(``models.Recognizers.pool``; frames over ``INLINE_DECODE_PIXELS`` are decoded on a worker thread first). A frame that arrives while another still waits in the mailbox
replaces it (the newest frame wins: latency never builds up); the next reply's ``dropped`` says how many were
replaced. So a connection holds at most one waiting and one processing frame, however fast its client sends.

Message format and close codes: docs/serving.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from ... import __version__
from .guard import CLOSE_POLICY, error_body, refuse
from .images import ImageRejected, check_image, decode_checked
from .limits import ServeOptions
from .models import Recognizers, face_rows

CLOSE_GOING_AWAY = 1001
"""The server is shutting down."""
CLOSE_INTERNAL = 1011
CLOSE_TRY_LATER = 1013
"""The stream limit is reached (where no HTTP denial response is possible)."""
CLOSE_IDLE = 4408
"""Nothing arrived for ``idle_timeout_s``."""
INLINE_DECODE_PIXELS = 1920 * 1088
"""Frames up to this many pixels are decoded on the recognizer thread (one thread hop less per frame); bigger ones
on a worker thread first, so that decoding them does not hold the other streams up."""


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 3)


def parse_fps(query: str | None) -> float | None:
    """The ``?fps=`` parameter: None when absent; ValueError unless a number in (0, 1000]."""
    if query is None:
        return None
    fps = float(query)
    if not 0 < fps <= 1000:
        raise ValueError(fps)
    return fps


class StreamHub:
    """The open streams of a server: the cap on how many, and closing them all at shutdown."""

    def __init__(self, models: Recognizers, options: ServeOptions):
        self.models, self.options = models, options
        self.streams: set[Stream] = set()
        self.reserved = 0
        self.closing = False
        self.refused = 0

    async def serve(self, websocket) -> None:
        """Run one WebSocket connection from handshake to close."""
        options = self.options
        if self.closing:
            return await self._deny(websocket, 503, CLOSE_GOING_AWAY, "shutting_down", "server shutting down")
        if self.reserved >= options.max_streams:
            self.refused += 1
            return await self._deny(websocket, 503, CLOSE_TRY_LATER, "stream_limit",
                                    f"stream limit reached ({options.max_streams} open); try again later")
        try:
            fps = parse_fps(websocket.query_params.get("fps"))
        except ValueError:
            return await self._deny(websocket, 400, CLOSE_POLICY, "bad_parameter",
                                    f"fps: expected a number in (0, 1000], got {websocket.query_params.get('fps')!r}")
        self.reserved += 1
        try:
            await websocket.accept()
            stream = Stream(websocket, self.models, options, fps)
            self.streams.add(stream)
            try:
                await stream.run()
            finally:
                self.streams.discard(stream)
        finally:
            self.reserved -= 1

    async def _deny(self, websocket, status: int, close_code: int, code: str, message: str) -> None:
        await refuse(websocket.scope, websocket.receive, websocket.send, status, code, message, close_code)

    async def close_all(self, code: int = CLOSE_GOING_AWAY, reason: str = "server shutting down") -> None:
        """Refuse new streams and close the open ones with ``code`` and ``reason``."""
        self.closing = True
        await asyncio.gather(*(s.close(code, reason) for s in list(self.streams)), return_exceptions=True)


class Stream:
    """One connection: the receiver loop, the one-frame mailbox and the processor task."""

    def __init__(self, websocket, models: Recognizers, options: ServeOptions, fps: float | None):
        self.ws, self.models, self.options, self.fps = websocket, models, options, fps
        self.state = models.new_stream()
        self.mailbox: tuple[int, int, bytes, tuple[str, int, int], float] | None = None
        """seq, frame index, data, (kind, width, height) from ``check_image``, arrival (perf_counter s)."""
        self.ready = asyncio.Event()
        self.dropped = self.dropped_total = 0
        self.reset_requested = False
        self.seq = 0  # every message
        self.frames = 0  # the accepted frames (the frame index, and the time with ?fps=)
        self.closed = False
        self.send_lock = asyncio.Lock()
        self.started = time.perf_counter()

    async def run(self) -> None:
        await self.send({"type": "hello", "version": __version__, "labels": list(self.models.labels),
                         "fps": self.fps, "limits": self.options.limits()})
        worker = asyncio.create_task(self._process_loop())
        try:
            await self._receive_loop()
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker

    async def _receive_loop(self) -> None:
        idle = self.options.idle_timeout_s
        while not self.closed:
            try:
                message = await asyncio.wait_for(self.ws.receive(), idle)
            except (asyncio.TimeoutError, TimeoutError):
                await self.close(CLOSE_IDLE, f"idle for {idle:g} s")
                return
            if message["type"] == "websocket.disconnect":
                self.closed = True
                return
            seq, self.seq = self.seq, self.seq + 1
            if message.get("bytes") is not None:
                await self._on_frame(seq, message["bytes"])
            else:
                await self._on_text(seq, message.get("text") or "")

    async def _on_frame(self, seq: int, data: bytes) -> None:
        try:
            header = check_image(data, self.options.max_bytes, self.options.max_pixels)
        except ImageRejected as exc:
            await self.send({"type": "error", "seq": seq, **exc.as_json()})
            return
        if self.mailbox is not None:
            self.dropped += 1
            self.dropped_total += 1
        index, self.frames = self.frames, self.frames + 1
        self.mailbox = (seq, index, data, header, time.perf_counter())
        self.ready.set()

    async def _on_text(self, seq: int, text: str) -> None:
        try:
            command = json.loads(text) if len(text) <= 1024 else None
        except ValueError:
            command = None
        if isinstance(command, dict) and command.get("op") == "reset":
            self.reset_requested = True
            await self.send({"type": "reset", "seq": seq})
            return
        if isinstance(command, dict) and command.get("op") == "ping":
            await self.send({"type": "pong", "seq": seq})
            return
        await self.send({"type": "error", "seq": seq, **error_body(
            "wrong_message_type", "message: expected a binary JPEG/PNG frame or the text command {\"op\": \"reset\"} "
                                  "or {\"op\": \"ping\"}, got other text; send frames as binary messages")})

    async def _process_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closed:
            await self.ready.wait()
            self.ready.clear()
            if self.mailbox is None:
                continue
            (seq, index, data, header, received), self.mailbox = self.mailbox, None
            dropped, self.dropped = self.dropped, 0
            taken = time.perf_counter()
            payload, decode_s = (data, header), 0.0
            if header[1] * header[2] > INLINE_DECODE_PIXELS:  # decoded apart, not holding the other streams up
                try:
                    payload = await asyncio.to_thread(decode_checked, data, *header)
                except ImageRejected as exc:
                    await self.send({"type": "error", "seq": seq, "dropped": dropped, **exc.as_json()})
                    continue
                decode_s = time.perf_counter() - taken
            time_ms = index * 1000.0 / self.fps if self.fps else (received - self.started) * 1e3
            reset, self.reset_requested = self.reset_requested, False
            job = loop.run_in_executor(self.models.pool, self._recognize, payload, index, time_ms, reset)
            outcome = await self._wait(job, seq, dropped)
            if outcome is None:
                continue
            (height, width), result, inline_decode_s = outcome
            decode_s += inline_decode_s
            done = time.perf_counter()
            await self.send({"type": "result", "seq": seq, "time_ms": round(time_ms, 3), "width": width,
                             "height": height, "dropped": dropped, "dropped_total": self.dropped_total,
                             "faces": face_rows(result),
                             "timings_ms": {"wait": _ms(taken - received), "decode": _ms(decode_s),
                                            "recognize": _ms(done - taken - decode_s), "server": _ms(done - received)}})

    def _recognize(self, payload, index: int, time_ms: float, reset: bool):
        """On the recognizer thread: decode ``payload`` when it is still (bytes, check_image's header), then
        recognize frame ``index``; ((H, W), the shown FrameResult, seconds spent decoding)."""
        start = time.perf_counter()
        image = decode_checked(payload[0], *payload[1]) if isinstance(payload, tuple) else payload
        decode_s = time.perf_counter() - start
        if reset:
            self.state.reset()
        return image.shape[:2], self.state.step(image, index, time_ms), decode_s

    async def _wait(self, job, seq: int, dropped: int):
        """The job's result, or None after an error reply (a frame over the timeout, a failure in recognition)."""
        try:
            return await asyncio.wait_for(asyncio.shield(job), self.options.frame_timeout_s)
        except ImageRejected as exc:  # decoded on the recognizer thread
            await self.send({"type": "error", "seq": seq, "dropped": dropped, **exc.as_json()})
        except (asyncio.TimeoutError, TimeoutError):
            await self.send({"type": "error", "seq": seq, "dropped": dropped, **error_body(
                "frame_timeout", f"frame: expected a result within {self.options.frame_timeout_s:g} s, got none (the "
                                 "server is overloaded); send fewer or smaller frames")})
            with contextlib.suppress(Exception):
                await job  # one frame at a time per stream, even after a timeout
        except Exception as exc:  # noqa: BLE001 - one bad frame must not end the stream
            await self.send({"type": "error", "seq": seq, "dropped": dropped, **error_body(
                "internal", f"frame: recognition failed ({type(exc).__name__}: {exc})"[:300])})
        return None

    async def send(self, payload: dict) -> None:
        """Send one JSON text message; a connection that is gone is marked closed (no exception)."""
        async with self.send_lock:
            if self.closed:
                return
            try:
                await self.ws.send_text(json.dumps(payload, separators=(",", ":")))
            except Exception:  # noqa: BLE001 - the client went away
                self.closed = True
                self.ready.set()

    async def close(self, code: int, reason: str) -> None:
        async with self.send_lock:
            if self.closed:
                return
            self.closed = True
            self.ready.set()
            with contextlib.suppress(Exception):
                await self.ws.close(code, reason[:120])
