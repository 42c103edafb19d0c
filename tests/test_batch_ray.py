"""batch --ray against a real local Ray cluster (2 CPUs on 127.0.0.1) that the tests start and stop."""

from __future__ import annotations

import os
import signal

import pytest

from realtime_fer.apps.batch import run_batch
from realtime_fer.apps.batch.job import JobSettings
from realtime_fer.apps.batch.manifest import MANIFEST_NAME, read_manifest
from realtime_fer.apps.engine.options import RecognizerOptions
from tests.conftest import write_face_video

def settings(model) -> JobSettings:
    return JobSettings(recognizer=RecognizerOptions(model=str(model)))


ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.mark.slow
def test_a_killed_ray_worker_is_restarted_and_its_video_completes(cluster, tmp_path, tiny_model):
    frames = 320  # ~1 s a video at ~350 frames/s: progress (polled every 0.3 s) arrives mid-video
    corpus = tmp_path / "in"
    corpus.mkdir()
    for i in range(3):
        write_face_video(corpus / f"v{i}.mp4", frames=frames)
    out = tmp_path / "out"
    killed: dict = {}

    def on_event(kind, *details):
        if kind == "progress" and not killed:
            worker, key, done, total = details
            if 10 <= done < total // 2:  # mid-video: SIGKILL the actor's process
                killed.update(key=key, pid=int(worker.rsplit(":", 1)[1]), at=done)
                os.kill(killed["pid"], signal.SIGKILL)

    records = run_batch([corpus], out, settings(tiny_model), ray="auto", on_event=on_event)
    assert killed, "no progress report arrived mid-video"
    assert [r["status"] for r in records] == ["done"] * 3
    by_key = {r["key"]: r for r in records}
    retried = by_key[killed["key"]]
    assert int(retried["worker"].rsplit(":", 1)[1]) != killed["pid"] and retried["frames"] == frames
    lines = (out / MANIFEST_NAME).read_text().splitlines()
    assert sum(f'"key": "{killed["key"]}"' in line for line in lines) == 1
    for record in records:
        assert len((out / f"{record['key']}.csv").read_text().splitlines()) == frames + 1
    assert not [p for p in out.rglob(".*partial*")]
    # the Ray CSVs equal a local worker's
    local = run_batch([corpus], tmp_path / "local", settings(tiny_model), workers=1)
    for record in local:
        assert (tmp_path / "local" / f"{record['key']}.csv").read_bytes() == (out / f"{record['key']}.csv").read_bytes()
    assert set(read_manifest(out)) == {"v0", "v1", "v2"}
