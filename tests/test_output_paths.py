"""Outputs that cannot be written: refused before any work (exit 2, one line naming the path and the cause), and
no partial file left behind when writing fails half-way (a full disk), for every kind of output.

The tests run as root, whom permission bits do not stop, so an unwritable place is made two ways the file system
itself enforces: an immutable folder (``chattr +i``) and a path under a regular file ("not a folder"). A full
disk is a link to ``/dev/full`` (every write fails with ENOSPC) standing where one output goes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import cv2
import pytest

from tests.av_clips import run_cli, write_clip
from tests.conftest import face_frame

CAUSES = {"immutable": "operation not permitted", "under_a_file": "not a folder"}


@pytest.fixture(params=sorted(CAUSES))
def unwritable(request, tmp_path):
    """(a folder path no process can create files in, the cause the message must give)."""
    if request.param == "under_a_file":
        (tmp_path / "plain.txt").write_text("a file, not a folder\n")
        yield tmp_path / "plain.txt" / "sub", CAUSES["under_a_file"]
        return
    locked = tmp_path / "locked"
    locked.mkdir()
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(locked)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this file system (an immutable folder cannot be made)")
    try:
        with pytest.raises(OSError):
            (locked / "probe").write_text("x")
        yield locked, CAUSES["immutable"]
    finally:
        subprocess.run([chattr, "-i", str(locked)], check=True)


@pytest.fixture
def clip(tmp_path) -> Path:
    return write_clip(tmp_path / "clip.mp4", frames=12, audio="aac")


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, index in (("a.jpg", 0), ("b.jpg", 5)):
        cv2.imwrite(str(folder / name), face_frame(index))
    return folder


def _full(path: Path) -> Path:
    """``path`` as a link to /dev/full: writing there fails with "no space left on device"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to("/dev/full")
    return path


def _refused(capsys, place: Path, cause: str, *args) -> None:
    code, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "internal error" not in err, err
    assert str(place) in lines[0] and cause in lines[0], lines[0]


def _nothing_but(folder: Path, *names: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


@pytest.mark.parametrize("option", ["--output", "--csv", "--jsonl"])
def test_video_outputs_in_an_unwritable_place_are_refused_before_any_work(capsys, tmp_path, clip, tiny_model,
                                                                          unwritable, option):
    place, cause = unwritable
    bad = place / {"--output": "out.mp4", "--csv": "faces.csv", "--jsonl": "faces.jsonl"}[option]
    good = {"--output": tmp_path / "ok.mp4", "--csv": tmp_path / "ok.csv", "--jsonl": tmp_path / "ok.jsonl"}
    others = [a for opt, path in good.items() if opt != option for a in (opt, path)]
    _refused(capsys, bad, cause, "--video", clip, option, bad, *others, "--model", tiny_model)
    assert not any(path.exists() for path in good.values())  # no stub of the other outputs


def test_an_unwritable_video_output_blames_the_place_not_the_codec(capsys, unwritable, clip, tiny_model):
    place, cause = unwritable
    code, err = run_cli(capsys, "--video", clip, "--output", place / "out.mp4", "--model", tiny_model)
    assert code == 2 and "--codec" not in err and "encoder" not in err and cause in err, err


def test_the_video_writer_blames_the_place_when_the_file_cannot_be_created(tmp_path):
    from realtime_fer.errors import InputError
    from realtime_fer.io.av_writer import AvVideoWriter

    (tmp_path / "plain.txt").write_text("x")
    with pytest.raises(InputError) as caught:
        AvVideoWriter(tmp_path / "plain.txt" / "out.mp4", 12, (64, 48))
    assert "--codec" not in str(caught.value) and "not a folder" in str(caught.value)


def test_a_report_folder_in_an_unwritable_place_is_refused(capsys, tmp_path, clip, tiny_model, unwritable):
    place, cause = unwritable
    _refused(capsys, place / "report", cause, "--video", clip, "--report", place / "report", "--output",
             tmp_path / "ok.mp4", "--model", tiny_model)
    assert not (tmp_path / "ok.mp4").exists()


@pytest.mark.parametrize("target", ["file", "folder"])
def test_image_outputs_in_an_unwritable_place_are_refused(capsys, tmp_path, photos, tiny_model, unwritable, target):
    place, cause = unwritable
    image = photos / "a.jpg" if target == "file" else photos
    output = place / "out.jpg" if target == "file" else place / "annotated"
    _refused(capsys, output, cause, "--image", image, "--output", output, "--csv", tmp_path / "ok.csv",
             "--model", tiny_model)
    assert not (tmp_path / "ok.csv").exists()


def test_batch_into_an_unwritable_folder_is_refused(capsys, clip, tiny_model, unwritable):
    place, cause = unwritable
    _refused(capsys, place / "out", cause, "batch", clip, "--out", place / "out", "--quiet", "--model", tiny_model)


def test_report_into_an_unwritable_folder_is_refused(capsys, tmp_path, clip, tiny_model, unwritable):
    place, cause = unwritable
    assert run_cli(capsys, "--video", clip, "--csv", tmp_path / "faces.csv", "--model", tiny_model)[0] == 0
    _refused(capsys, place / "report", cause, "report", tmp_path / "faces.csv", "--out", place / "report")


def test_camera_outputs_in_an_unwritable_place_are_refused(capsys, tmp_path, clip, tiny_model, unwritable):
    place, cause = unwritable
    _refused(capsys, place / "live.csv", cause, "--camera", clip, "--no-window", "--csv", place / "live.csv",
             "--model", tiny_model)


def _failed_half_way(capsys, *args) -> str:
    code, err = run_cli(capsys, *args)
    assert code == 1 and "no space left" in err and "internal error" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_a_failed_video_run_leaves_no_annotated_video(capsys, tmp_path, clip, tiny_model):
    full = _full(tmp_path / "out" / "faces.csv")
    _failed_half_way(capsys, "--video", clip, "--output", tmp_path / "out" / "annotated.mp4", "--csv", full,
                     "--overwrite", "--model", tiny_model)
    _nothing_but(tmp_path / "out", "faces.csv")  # no audio-only stub beside the link


def test_a_failed_run_leaves_no_csv(capsys, tmp_path, photos, tiny_model):
    full = _full(tmp_path / "out" / "annotated.png")
    _failed_half_way(capsys, "--image", photos / "a.jpg", "--output", full, "--csv", tmp_path / "out" / "faces.csv",
                     "--overwrite", "--model", tiny_model)
    _nothing_but(tmp_path / "out")  # the CSV had its rows, and is gone; so is the link the image went to


def test_a_failed_run_leaves_no_jsonl(capsys, tmp_path, photos, tiny_model):
    full = _full(tmp_path / "out" / "annotated.png")
    _failed_half_way(capsys, "--image", photos / "a.jpg", "--output", full, "--jsonl",
                     tmp_path / "out" / "faces.jsonl", "--overwrite", "--model", tiny_model)
    _nothing_but(tmp_path / "out")


def test_a_failed_run_leaves_no_annotated_images(capsys, tmp_path, photos, tiny_model):
    _full(tmp_path / "annotated" / "b.jpg")
    _failed_half_way(capsys, "--image", photos, "--output", tmp_path / "annotated", "--overwrite",
                     "--model", tiny_model)
    _nothing_but(tmp_path / "annotated")  # a.jpg was written before b.jpg failed, and is gone again


def test_a_failed_video_run_leaves_no_report_table(capsys, tmp_path, clip, tiny_model):
    _full(tmp_path / "faces.jsonl")
    _failed_half_way(capsys, "--video", clip, "--report", tmp_path / "report", "--jsonl", tmp_path / "faces.jsonl",
                     "--overwrite", "--model", tiny_model)
    assert not (tmp_path / "report" / "faces.csv").exists()


def test_a_failed_report_leaves_no_partial_report(capsys, tmp_path, clip, tiny_model):
    assert run_cli(capsys, "--video", clip, "--csv", tmp_path / "faces.csv", "--model", tiny_model)[0] == 0
    _full(tmp_path / "report" / "summary.json")
    _failed_half_way(capsys, "report", tmp_path / "faces.csv", "--out", tmp_path / "report")
    _nothing_but(tmp_path / "report")  # the timelines written before summary.json failed are gone


def test_an_interrupted_run_still_keeps_its_outputs(tmp_path):
    """Ctrl-C (KeyboardInterrupt) is no failure: the outputs are finalized up to the last frame, as on SIGINT."""
    from realtime_fer.io.sinks import CsvSink

    with pytest.raises(KeyboardInterrupt):
        with CsvSink(tmp_path / "faces.csv", ["happy"]):
            raise KeyboardInterrupt
    assert (tmp_path / "faces.csv").read_text().startswith("frame,")
    with pytest.raises(ValueError):
        with CsvSink(tmp_path / "other.csv", ["happy"]):
            raise ValueError("a failure")
    assert not (tmp_path / "other.csv").exists()
    assert os.listdir(tmp_path) == ["faces.csv"]


def test_remove_outputs_deletes_the_files_then_the_empty_folders_it_made(tmp_path):
    from realtime_fer.io.output_paths import remove_outputs

    kept = tmp_path / "kept.txt"
    kept.write_text("not written by the run\n")
    made = [tmp_path / "out", tmp_path / "out" / "a", tmp_path / "out" / "a" / "b", tmp_path / "busy"]
    for folder in made:
        folder.mkdir(exist_ok=True)
    written = [tmp_path / "out" / "a" / "b" / "x.png", tmp_path / "out" / "y.json", tmp_path / "busy" / "z.csv"]
    for path in written:
        path.write_text("x")
    (tmp_path / "busy" / "other.txt").write_text("not written by the run\n")
    remove_outputs(written, made)  # the shallowest folder first: removal must go deepest first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "kept.txt"]
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["other.txt"]
