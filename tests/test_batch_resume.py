"""batch resumes only what its manifest records as done: a video whose record says failed or interrupted is redone
even though its CSV is there, and so is a stray CSV (header only) that no record names (real clips, real models)."""

from __future__ import annotations

import json

import pytest

from realtime_fer.apps.batch.manifest import MANIFEST_NAME, read_manifest
from tests.av_clips import rows_of, run_cli, write_clip

FRAMES = 10


@pytest.fixture
def done_once(capsys, tmp_path, tiny_model):
    """(batch arguments, OUT) after one complete run over clip.mp4 (one CSV with its rows)."""
    corpus = tmp_path / "in"
    corpus.mkdir()
    write_clip(corpus / "clip.mp4", frames=FRAMES)
    out = tmp_path / "out"
    args = ["batch", corpus, "--out", out, "--model", tiny_model, "--workers", "1", "--quiet"]
    code, err = run_cli(capsys, *args)
    assert code == 0 and read_manifest(out)["clip"]["status"] == "done", err
    assert len(rows_of(out / "clip.csv")) == FRAMES
    return args, out


def _header_only(csv_path):
    csv_path.write_text(csv_path.read_text().splitlines()[0] + "\n")
    assert rows_of(csv_path) == []


def _set_status(out, status: str) -> None:
    """Rewrite the clip's record with ``status`` (everything else as the done run wrote it)."""
    record = {**read_manifest(out)["clip"], "status": status, "error": f"{status} in an earlier run"}
    (out / MANIFEST_NAME).write_text(json.dumps(record, sort_keys=True) + "\n")


@pytest.mark.parametrize("status", ["failed", "interrupted"])
def test_a_video_recorded_as_not_done_is_redone_though_its_csv_is_there(capsys, done_once, status):
    args, out = done_once
    _header_only(out / "clip.csv")  # what an earlier, unfinished run might have left
    _set_status(out, status)
    code, err = run_cli(capsys, *args)
    record = read_manifest(out)["clip"]
    assert code == 0 and record["status"] == "done" and record["frames"] == FRAMES, err
    assert len(rows_of(out / "clip.csv")) == FRAMES


def test_a_stray_header_only_csv_without_a_record_is_redone(capsys, done_once):
    args, out = done_once
    _header_only(out / "clip.csv")
    (out / MANIFEST_NAME).unlink()
    code, err = run_cli(capsys, *args)
    assert code == 0 and read_manifest(out)["clip"]["status"] == "done", err
    assert len(rows_of(out / "clip.csv")) == FRAMES


def test_a_done_record_is_skipped_and_its_csv_kept(capsys, done_once):
    """The other side: a record that says done (same model and settings) and its CSV are taken as they are."""
    args, out = done_once
    before = (out / "clip.csv").read_bytes()
    code, err = run_cli(capsys, *args)
    assert code == 0 and read_manifest(out)["clip"]["status"] == "skipped", err
    assert (out / "clip.csv").read_bytes() == before
