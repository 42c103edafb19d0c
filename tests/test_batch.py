"""realtime-fer batch on local worker processes: outputs, manifest, resume, faults (real videos, real models)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from realtime_fer.apps.batch import collect_inputs, run_batch
from realtime_fer.apps.batch.job import JobSettings
from realtime_fer.apps.engine.options import RecognizerOptions
from realtime_fer.apps.batch.manifest import BatchLockedError, OutputLock, read_manifest
from realtime_fer.apps.cli import main
from realtime_fer.core.temporal import OFF
from realtime_fer.errors import InputError
from tests.conftest import FACE_VIDEO_FRAMES, REPO, write_face_video


def settings(model, **fields) -> JobSettings:
    """The settings of a batch run with the tiny model (``fields``: other ``JobSettings`` fields)."""
    return JobSettings(recognizer=RecognizerOptions(model=str(model)), **fields)


def _corpus(root: Path, frames: int = FACE_VIDEO_FRAMES, count: int = 2) -> Path:
    (root / "sub").mkdir(parents=True)
    for i in range(count):
        write_face_video(root / f"clip{i}.mp4", frames=frames)
    write_face_video(root / "sub" / "inner.avi", frames=frames)
    return root


def test_inputs_mirror_folders_globs_and_lists(tmp_path):
    corpus = _corpus(tmp_path / "in")
    (corpus / "notes.txt.bak").write_text("x")
    listing = tmp_path / "list.txt"
    listing.write_text(f"# corpus\nin/clip0.mp4\n\n{corpus / 'sub' / 'inner.avi'}\n")
    assert [i.key for i in collect_inputs([corpus])] == ["clip0", "clip1", "sub/inner"]
    assert [i.key for i in collect_inputs([str(tmp_path / "in" / "**" / "*.avi")])] == ["sub/inner"]
    assert [i.key for i in collect_inputs([listing])] == ["in/clip0", "in/sub/inner"]
    # the same file named twice is one input; the output folder inside an input folder is not searched
    (corpus / "out").mkdir()
    write_face_video(corpus / "out" / "old.mp4", frames=2)
    assert [i.key for i in collect_inputs([corpus, corpus / "clip0.mp4"], corpus / "out")] == \
        ["clip0", "clip1", "sub/inner"]
    # a link under another name is an input of its own (a corpus of linked copies keeps every copy)
    (corpus / "linked.mp4").symlink_to(corpus / "clip0.mp4")
    assert [i.key for i in collect_inputs([corpus], corpus / "out")] == ["clip0", "clip1", "linked", "sub/inner"]


def test_largest_videos_are_dispatched_first(tmp_path):
    from realtime_fer.apps.batch.runner import largest_first

    write_face_video(tmp_path / "short.mp4", frames=2)
    write_face_video(tmp_path / "long.mp4", frames=12)
    items = collect_inputs([tmp_path / "short.mp4", tmp_path / "missing.mp4", tmp_path / "long.mp4"])
    assert [i.key for i in largest_first(items)] == ["long", "short", "missing"]


def test_colliding_names_fail_before_any_work(capsys, tmp_path, tiny_model):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_face_video(tmp_path / "a" / "x.mp4", frames=2)
    write_face_video(tmp_path / "b" / "x.mov", frames=2)
    out = tmp_path / "out"
    with pytest.raises(InputError, match="both mapped to 'x'"):
        run_batch([tmp_path / "a" / "x.mp4", tmp_path / "b" / "x.mov"], out, settings(tiny_model))
    assert main(["batch", str(tmp_path / "a" / "x.mp4"), str(tmp_path / "b" / "x.mov"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "realtime-fer: error: batch inputs" in err and "Traceback" not in err
    assert not out.exists()


LONG_FRAMES = 88  # the face tile drifts 3 px a frame and wraps (a new track) after 90


class HoldTheFirstWorker:
    """A ``run_batch`` ``on_event`` hook: the first worker process to start a video is stopped (SIGSTOP) until
    another worker process starts one (or ``limit_s`` pass), so with two workers the other videos must go to the
    other process whichever of them started up first. With one worker nothing runs until the limit."""

    def __init__(self, limit_s: float = 30.0):
        import threading

        self.held: int | None = None
        self.lock = threading.Lock()
        self.timer = threading.Timer(limit_s, self.release)

    def __call__(self, kind, *details) -> None:
        if kind != "start":
            return
        pid = int(details[0].rsplit(":", 1)[1])
        with self.lock:
            if self.held is None:
                self.held = pid
                os.kill(pid, signal.SIGSTOP)
                self.timer.start()
            elif pid != self.held:
                self.release()

    def release(self) -> None:
        self.timer.cancel()
        try:
            os.kill(self.held, signal.SIGCONT)
        except (ProcessLookupError, TypeError):
            pass


def test_batch_csvs_equal_single_video_runs(capsys, tmp_path):
    """Default model, two workers: every CSV is byte-identical to ``realtime-fer --video`` with the same settings,
    and two worker processes did work (``HoldTheFirstWorker`` keeps the first one busy on the longest video)."""
    corpus = _corpus(tmp_path / "in")
    write_face_video(corpus / "clip0.mp4", frames=LONG_FRAMES)
    hold = HoldTheFirstWorker()
    try:
        records = run_batch([corpus], tmp_path / "out", JobSettings(jsonl=True), workers=2, on_event=hold)
    finally:
        hold.release()
    assert [r["status"] for r in records] == ["done"] * 3
    workers = {r["key"]: r["worker"] for r in records}
    assert len(set(workers.values())) == 2, f"expected two worker processes to share the work, got {workers}"
    assert all(int(w.rsplit(":", 1)[1]) != os.getpid() for w in workers.values())  # workers, not the driver
    for record in records:
        single = tmp_path / "single" / f"{record['key']}.csv"
        assert main(["--video", record["input"], "--csv", str(single), "--jsonl", str(single.with_suffix(".jsonl"))]) == 0
        assert (tmp_path / "out" / record["outputs"]["csv"]).read_bytes() == single.read_bytes()
        assert (tmp_path / "out" / record["outputs"]["jsonl"]).read_bytes() == single.with_suffix(".jsonl").read_bytes()
        frames = LONG_FRAMES if record["key"] == "clip0" else FACE_VIDEO_FRAMES
        assert record["frames"] == frames and record["faces"] == frames and record["tracks"] == 1
    manifest = read_manifest(tmp_path / "out")
    assert set(manifest) == {"clip0", "clip1", "sub/inner"}
    assert {r["model_sha256"] for r in manifest.values()} == {records[0]["model_sha256"]}


def test_bad_inputs_fail_alone_and_the_rest_resume(capsys, tmp_path, tiny_model):
    corpus = _corpus(tmp_path / "in", count=1)
    (corpus / "corrupt.mp4").write_bytes(os.urandom(4096))
    out = tmp_path / "out"
    args = ["batch", str(corpus), str(tmp_path / "missing.mp4"), "--out", str(out), "--model", str(tiny_model),
            "--workers", "1", "--quiet"]
    assert main(args) == 1  # some inputs failed
    err = capsys.readouterr().err
    assert "2 done, 2 failed" in err and "Traceback" not in err
    manifest = read_manifest(out)
    assert manifest["corrupt"]["status"] == "failed" and "no decodable frame" in manifest["corrupt"]["error"]
    assert manifest["missing"]["status"] == "failed" and "no file at" in manifest["missing"]["error"]
    assert {manifest[k]["status"] for k in ("clip0", "sub/inner")} == {"done"}
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == [".batch.lock", "clip0.csv", "inner.csv",
                                                                     "manifest.jsonl"]
    # the same command again: the done ones are skipped (outputs untouched), the failed ones retried
    before = (out / "clip0.csv").stat().st_mtime_ns
    assert main(args) == 1
    manifest = read_manifest(out)
    assert manifest["clip0"]["status"] == "skipped" and (out / "clip0.csv").stat().st_mtime_ns == before
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 4
    # other settings: redone
    records = run_batch([corpus / "clip0.mp4"], out, settings(tiny_model, temporal=OFF))
    assert records[0]["status"] == "done" and records[0]["settings"]["temporal"]["mode"] == "off"


def test_batch_takes_the_temporal_options_and_resumes_only_with_equal_ones(capsys, tmp_path, tiny_model):
    corpus = tmp_path / "in"
    corpus.mkdir()
    write_face_video(corpus / "clip.mp4", frames=30)
    out = tmp_path / "out"
    base = ["batch", str(corpus), "--out", str(out), "--model", str(tiny_model), "--workers", "1", "--quiet"]
    assert main(base + ["--lag", "0.5", "--min-hold", "0.2"]) == 0
    record = read_manifest(out)["clip"]
    assert record["status"] == "done"
    assert record["settings"]["temporal"] == {"mode": "offline", "tau_s": 0.0, "margin": 0.45, "min_hold_s": 0.2,
                                              "lag_s": 0.5, "evidence": "log", "min_shown_s": 0.2}
    assert main(base + ["--lag", "0.5", "--min-hold", "0.2"]) == 0
    assert read_manifest(out)["clip"]["status"] == "skipped"  # equal settings: resumed
    assert main(base + ["--lag", "1", "--min-hold", "0.2"]) == 0
    assert read_manifest(out)["clip"]["status"] == "done"  # another lag: redone
    assert main(base + ["--lag", "1", "--min-hold", "0.2", "--evidence", "prob"]) == 0
    assert read_manifest(out)["clip"]["settings"]["temporal"]["evidence"] == "prob"  # another design: redone
    assert main(base + ["--temporal", "live"]) == 0
    assert read_manifest(out)["clip"]["settings"]["temporal"]["mode"] == "live"
    capsys.readouterr()
    assert main(base + ["--lag", "9"]) == 2
    assert "--lag" in capsys.readouterr().err


def test_a_killed_worker_process_is_replaced_and_its_video_completes(tmp_path, tiny_model):
    frames = 200
    corpus = tmp_path / "in"
    corpus.mkdir()
    for i in range(2):
        write_face_video(corpus / f"v{i}.mp4", frames=frames)
    killed: dict = {}

    def on_event(kind, *details):
        if kind == "progress" and not killed:
            worker, key, done, total = details
            if 1 <= done < total - 20:  # mid-video (progress may arrive late on a loaded machine)
                killed.update(key=key, pid=int(worker.rsplit(":", 1)[1]))
                os.kill(killed["pid"], signal.SIGKILL)

    records = run_batch([corpus], tmp_path / "out", settings(tiny_model), workers=1, on_event=on_event)
    assert killed and [r["status"] for r in records] == ["done", "done"]
    # one worker at a time: a record from another process proves the pool was rebuilt (progress reports
    # can arrive late, so the kill may land on the video after the one it reported)
    assert {int(r["worker"].rsplit(":", 1)[1]) for r in records} - {killed["pid"]}
    for record in records:
        assert len((tmp_path / "out" / f"{record['key']}.csv").read_text().splitlines()) == frames + 1
    assert len((tmp_path / "out" / "manifest.jsonl").read_text().splitlines()) == 2
    assert not list((tmp_path / "out").rglob(".*partial*"))


def test_held_lock_refuses_a_second_run(capsys, tmp_path, tiny_model):
    write_face_video(tmp_path / "a.mp4", frames=2)
    with OutputLock(tmp_path / "out"):
        with pytest.raises(BatchLockedError, match="locked by pid"):
            run_batch([tmp_path / "a.mp4"], tmp_path / "out", settings(tiny_model))
        assert main(["batch", str(tmp_path / "a.mp4"), "--out", str(tmp_path / "out"), "--quiet"]) == 2
        assert "expected a folder no other batch run is writing to, got one locked by pid" in capsys.readouterr().err
    assert read_manifest(tmp_path / "out") == {}


@pytest.mark.slow
def test_sigterm_leaves_a_consistent_manifest_and_the_rerun_finishes(tmp_path, tiny_model):
    """A real driver process: a second run on its folder is refused meanwhile; SIGTERM mid-corpus -> exit 143,
    only complete outputs under final names, and the rerun does only what is left."""
    corpus = tmp_path / "in"
    corpus.mkdir()
    frames = 120
    for i in range(5):
        write_face_video(corpus / f"v{i}.mp4", frames=frames)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "realtime_fer", "batch", str(corpus), "--out", str(out), "--model",
               str(tiny_model), "--workers", "1", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    driver = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not [r for r in read_manifest(out).values() if r["status"] == "done"]:
            assert driver.poll() is None and time.monotonic() < deadline, "no video finished"
            time.sleep(0.05)
        with pytest.raises(BatchLockedError, match=f"locked by pid {driver.pid}"):  # a second run, meanwhile
            run_batch([corpus], out, settings(tiny_model))
        driver.send_signal(signal.SIGTERM)
        assert driver.wait(timeout=60) == 143, driver.stderr.read()
    finally:
        driver.kill()
    manifest = read_manifest(out)
    done = {k for k, r in manifest.items() if r["status"] == "done"}
    assert 1 <= len(done) < 5
    finals = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert finals == {".batch.lock", "manifest.jsonl"} | {f"{k}.csv" for k in done}  # no partial file left
    for key in done:
        assert len((out / f"{key}.csv").read_text().splitlines()) == frames + 1
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    manifest = read_manifest(out)
    assert {k for k, r in manifest.items() if r["status"] == "skipped"} == done
    assert {k for k, r in manifest.items() if r["status"] == "done"} == {f"v{i}" for i in range(5)} - done
    assert all(len((out / f"v{i}.csv").read_text().splitlines()) == frames + 1 for i in range(5))
