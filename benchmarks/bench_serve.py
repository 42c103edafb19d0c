"""``realtime-fer serve`` under load, on loopback only: N clients streaming a clip as JPEG at a fixed rate.

    nice -n 5 python benchmarks/bench_serve.py [--clients 1 4] [--seconds 60] [--fps 15] [--video PATH] [--json]
    nice -n 5 python benchmarks/bench_serve.py --fuzz [--seconds 20]

The server runs as its own process (``python -m realtime_fer serve --port 0``, on 127.0.0.1). Each client
(a thread with a ``websockets`` connection) sends the clip's frames, resized to 640x360 and JPEG-encoded
(quality 80) once beforehand, at ``--fps`` for ``--seconds``, and times each reply against its frame's send
(round trip). Reported per run: round trip p50/p95, frames sent, processed (replies) and dropped (the newest
frame won: counted by the server, plus frames left unanswered at the end), errors, and the server's resident
memory after a warm-up (3 s with the most clients of the runs) and at the end. Before the runs, the same frames are decoded and recognized in this
process (JPEG decode + the stream's recognizer and live stage, paced at ``--fps`` as a camera delivers them) for the
in-process latency the 1-client round trip compares with.

``--fuzz``: one client streams well-formed frames while another sends 500 malformed messages (random bytes,
truncated JPEGs, JPEG headers over garbage, text frames, images over the byte or the pixel limit); each must be
answered with an error, the well-formed stream must keep getting results, and /healthz must answer afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time

import numpy as np
from common import PEXELS, REPO

MAX_BYTES = 256 * 1024


def clip_jpegs(path, limit: int = 600) -> list[bytes]:
    """Up to ``limit`` frames of ``path``, 640x360, as JPEG bytes (quality 80)."""
    import cv2

    capture, frames = cv2.VideoCapture(str(path)), []
    while len(frames) < limit:
        ok, image = capture.read()
        if not ok:
            break
        image = cv2.resize(image, (640, 360), interpolation=cv2.INTER_AREA)
        frames.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    capture.release()
    if not frames:
        sys.exit(f"bench_serve: expected a readable video, got none at {path}")
    return frames


def in_process_latency(frames: list[bytes], fps: float, count: int = 200) -> float:
    """Median ms of JPEG decode + the stream recognizer (live stage) per frame, in this process, the frames paced at
    ``fps`` as a camera (and each client) delivers them, so the recognizer's small-face discovery passes run beside
    it as often as in the server."""
    from realtime_fer.apps.serve.images import decode_image
    from realtime_fer.apps.serve.models import Recognizers

    models = Recognizers.open()
    state, samples = models.new_stream(), []
    begin = time.perf_counter()
    for index in range(count):
        time.sleep(max(0.0, begin + index / fps - time.perf_counter()))
        start = time.perf_counter()
        image = decode_image(frames[index % len(frames)], 1 << 30, 1 << 28)
        state.step(image, index, index * 1000.0 / fps)
        samples.append((time.perf_counter() - start) * 1e3)
    models.close()
    return float(np.median(samples[10:]))


class Serving:
    """The server process on 127.0.0.1 with a free port."""

    def __init__(self, *args: str):
        command = [sys.executable, "-m", "realtime_fer", "serve", "--host", "127.0.0.1", "--port", "0", *args]
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=REPO)
        for line in self.process.stderr:
            found = re.search(r"serving on http://127\.0\.0\.1:(\d+)/", line)
            if found:
                self.port = int(found.group(1))
                break
        else:
            sys.exit(f"bench_serve: the server did not start (exit {self.process.wait()})")
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def healthy(self) -> bool:
        import httpx

        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(30)


class Client:
    """One streaming connection: sends ``frames`` at ``fps`` until ``deadline``, times the replies."""

    def __init__(self, port: int, frames: list[bytes], fps: float, offset: int = 0):
        from websockets.sync.client import connect

        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(connect(f"ws://127.0.0.1:{port}/v1/stream", max_size=None,
                                                   open_timeout=30))
        assert json.loads(self.ws.recv(30))["type"] == "hello"
        self.frames, self.fps, self.offset = frames, fps, offset
        self.sent_at: dict[int, float] = {}
        self.rtt: list[float] = []
        self.server_ms: list[float] = []
        self.results = self.server_dropped = self.errors = 0
        self.error_seqs: set[int] = set()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            for message in self.ws:
                reply, now = json.loads(message), time.perf_counter()
                if reply["type"] == "result":
                    self.results += 1
                    self.server_dropped += reply["dropped"]
                    self.rtt.append((now - self.sent_at[reply["seq"]]) * 1e3)
                    self.server_ms.append(reply["timings_ms"]["server"])
                elif reply["type"] == "error":
                    self.errors += 1
                    self.error_seqs.add(reply["seq"])
        except Exception:  # noqa: BLE001 - the connection closed
            pass

    def stream(self, seconds: float) -> None:
        start = time.perf_counter()
        for seq in range(int(seconds * self.fps)):
            delay = start + seq / self.fps - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.sent_at[seq] = time.perf_counter()
            self.ws.send(self.frames[(seq + self.offset) % len(self.frames)])

    def finish(self) -> dict:
        time.sleep(1.0)  # the last replies
        self.stack.close()
        self.reader.join(5)
        sent = len(self.sent_at)
        return {"sent": sent, "processed": self.results, "dropped": sent - self.results - self.errors,
                "dropped_by_server": self.server_dropped, "errors": self.errors, "rtt": self.rtt,
                "server_ms": self.server_ms}


def run_clients(server: "Serving", frames, clients: int, seconds: float, fps: float) -> dict:
    port = server.port
    connections = [Client(port, frames, fps, offset=37 * k) for k in range(clients)]
    threads = [threading.Thread(target=c.stream, args=(seconds,)) for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = [c.finish() for c in connections]
    rtt = np.concatenate([r["rtt"] for r in results]) if any(r["rtt"] for r in results) else np.array([np.nan])
    totals = {k: sum(r[k] for r in results) for k in ("sent", "processed", "dropped", "dropped_by_server", "errors")}
    inside = np.concatenate([r["server_ms"] for r in results]) if any(r["server_ms"] for r in results) else [np.nan]
    return {"clients": clients, **totals, "rtt_p50_ms": float(np.percentile(rtt, 50)),
            "rtt_p95_ms": float(np.percentile(rtt, 95)), "server_p50_ms": float(np.percentile(inside, 50)),
            "rss_after_mb": server.rss_mb()}


def malformed(frames: list[bytes], count: int = 500):
    """``count`` malformed messages, cycling through the kinds: (kind, bytes or str)."""
    import cv2

    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (400, 400, 3), np.uint8)
    too_big = cv2.imencode(".png", noise)[1].tobytes()  # ~480 kB > MAX_BYTES
    too_many_pixels = cv2.imencode(".png", np.zeros((6000, 6000), np.uint8))[1].tobytes()  # small file, 36 MP
    kinds = [("random bytes", lambda i: rng.bytes(int(rng.integers(1, 5000)))),
             ("truncated JPEG", lambda i: frames[i % len(frames)][: int(rng.integers(10, 20000))]),
             ("JPEG header over garbage", lambda i: frames[0][:600] + rng.bytes(3000)),
             ("text frame", lambda i: json.dumps({"op": "explode", "n": i}) if i % 2 else "\u0000 not json"),
             ("over the byte limit", lambda i: too_big),
             ("over the pixel limit", lambda i: too_many_pixels)]
    return [(kinds[i % len(kinds)][0], kinds[i % len(kinds)][1](i)) for i in range(count)]


def fuzz(port: int, frames, seconds: float, fps: float) -> dict:
    good, bad = Client(port, frames, fps), Client(port, frames, fps)
    messages = malformed(frames)
    streaming = threading.Thread(target=good.stream, args=(seconds,))
    streaming.start()
    time.sleep(1.0)
    results_before = good.results
    for _, message in messages:
        bad.ws.send(message)
        time.sleep(max(0.0, (seconds - 3.0) / len(messages)))
    streaming.join()
    fuzzed, streamed = bad.finish(), good.finish()
    return {"malformed": len(messages), "answered_with_error": len(bad.error_seqs),
            "unanswered": len(messages) - len(bad.error_seqs), "good_results_during_fuzz":
            good.results - results_before, "good_errors": streamed["errors"], "good_sent": streamed["sent"],
            "rtt_p95_ms": float(np.percentile(streamed["rtt"], 95)) if streamed["rtt"] else None,
            "fuzz_results": fuzzed["processed"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4], help="client counts, one run each")
    parser.add_argument("--seconds", type=float, default=60.0, help="streaming time per run (at most 600)")
    parser.add_argument("--fps", type=float, default=15.0, help="frames per second per client")
    parser.add_argument("--video", default=str(PEXELS), help="the clip (default: the Pexels sample)")
    parser.add_argument("--fuzz", action="store_true", help="the malformed-message run instead")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not (0 < args.seconds <= 600 and all(1 <= c <= 16 for c in args.clients) and 0 < args.fps <= 60):
        sys.exit("bench_serve: expected --seconds in (0, 600], --clients in [1, 16], --fps in (0, 60]")
    frames = clip_jpegs(args.video)
    report = {"cpus": os.cpu_count(), "frames_in_clip": len(frames), "fps": args.fps, "seconds": args.seconds}
    if not args.fuzz:
        report["in_process_ms"] = in_process_latency(frames, args.fps)
    server = Serving("--max-streams", str(2 * max(args.clients) + 2), "--max-bytes", str(MAX_BYTES))
    try:
        run_clients(server, frames, max(args.clients) if not args.fuzz else 2, 3.0, args.fps)  # warm-up
        report["rss_start_mb"] = server.rss_mb()
        if args.fuzz:
            report["fuzz"] = fuzz(server.port, frames, args.seconds, args.fps)
        else:
            report["runs"] = [run_clients(server, frames, n, args.seconds, args.fps) for n in args.clients]
        report["rss_end_mb"] = server.rss_mb()
        report["healthz_after"] = server.healthy()
    finally:
        report["server_exit"] = server.stop()
    report["load_avg"] = os.getloadavg()
    print(json.dumps(report, indent=1) if args.json else render(report))


def render(report: dict) -> str:
    lines = [f"cpus {report['cpus']}, load avg {' '.join(f'{x:.1f}' for x in report['load_avg'])}; "
             f"{report['fps']:g} fps per client for {report['seconds']:g} s; server RSS {report['rss_start_mb']:.1f} "
             f"-> {report['rss_end_mb']:.1f} MB; /healthz after: {report['healthz_after']}; server exit "
             f"{report['server_exit']}"]
    if "in_process_ms" in report:
        lines.append(f"in process (JPEG decode + recognize, median): {report['in_process_ms']:.1f} ms")
    for run in report.get("runs", []):
        ratio = run["rtt_p50_ms"] / report["in_process_ms"]
        lines.append(f"{run['clients']} client(s): round trip p50 {run['rtt_p50_ms']:.1f} ms ({ratio:.2f}x in "
                     f"process; in the server {run['server_p50_ms']:.1f} ms), p95 {run['rtt_p95_ms']:.1f} ms; sent "
                     f"{run['sent']}, processed {run['processed']}, dropped {run['dropped']} (server: "
                     f"{run['dropped_by_server']}), errors {run['errors']}; server RSS after "
                     f"{run['rss_after_mb']:.1f} MB")
    if "fuzz" in report:
        f = report["fuzz"]
        lines.append(f"fuzz: {f['malformed']} malformed messages, {f['answered_with_error']} answered with an error, "
                     f"{f['unanswered']} unanswered; the well-formed stream got {f['good_results_during_fuzz']} "
                     f"results meanwhile ({f['good_errors']} errors, p95 {f['rtt_p95_ms']:.1f} ms)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
