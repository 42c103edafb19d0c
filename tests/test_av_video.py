"""Video files through PyAV, on clips the tests generate: audio carried over, H.264 out, container
timestamps (variable frame rate), rotation metadata, damaged packets, frame folders, encoder options."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from realtime_fer.apps.cli import main
from realtime_fer.apps.engine.options import OutputOptions, RecognizerOptions, RunOptions
from realtime_fer.apps.engine.video_job import JobHooks, run_video_job
from realtime_fer.io.sources import VideoFileSource
from tests.av_clips import damage_packets, rows_of, run_cli, streams_of, write_clip
from tests.conftest import face_frame

FPS = 12.0


@pytest.fixture(scope="module")
def clip_with_audio(tmp_path_factory):
    """24 frames at 12 fps (2 s) of H.264 with a 2 s AAC tone."""
    return write_clip(tmp_path_factory.mktemp("av") / "talk.mp4", audio="aac")


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov"])
def test_output_is_h264_with_the_inputs_audio(capsys, tmp_path, clip_with_audio, tiny_model, suffix):
    out, table = tmp_path / f"out{suffix}", tmp_path / "out.csv"
    code, err = run_cli(capsys, "--video", clip_with_audio, "--output", out, "--csv", table, "--model", tiny_model)
    assert code == 0, err
    source, result = streams_of(clip_with_audio), streams_of(out)
    assert result["video"][:3] == ("h264", 24, (640, 360))
    assert result["audio"][0] == "aac"  # stream copy
    assert result["audio"][1] == pytest.approx(source["audio"][1], abs=1 / FPS)
    assert result["audio"][1] == pytest.approx(2.0, abs=1 / FPS)
    assert len(rows_of(table)) == 24
    # the overlay is burnt in: the first frame differs from the input around the face
    first = cv2.VideoCapture(str(out)).read()[1]
    assert np.abs(first.astype(int) - face_frame(0)).max() > 100


def test_no_audio_drops_the_audio_and_pcm_is_reencoded_for_mp4(capsys, tmp_path, tiny_model):
    pcm = write_clip(tmp_path / "pcm.mkv", audio="pcm_s16le")
    code, err = run_cli(capsys, "--video", pcm, "--output", tmp_path / "a.mp4", "--model", tiny_model)
    assert code == 0, err
    audio = streams_of(tmp_path / "a.mp4")["audio"]
    assert audio[0] == "aac" and audio[1] == pytest.approx(2.0, abs=1 / FPS)  # PCM plays nowhere in MP4
    code, err = run_cli(capsys, "--video", pcm, "--output", tmp_path / "b.mp4", "--no-audio", "--model", tiny_model)
    assert code == 0, err
    assert streams_of(tmp_path / "b.mp4")["audio"] is None


def test_variable_frame_rate_keeps_the_containers_times(capsys, tmp_path, tiny_model):
    times = [0, 40, 80, 200, 240, 400, 433, 466, 900, 1000, 1100, 1500]
    clip = write_clip(tmp_path / "vfr.mp4", frames=len(times), times_ms=times)
    out, table = tmp_path / "out.mp4", tmp_path / "out.csv"
    code, err = run_cli(capsys, "--video", clip, "--output", out, "--csv", table, "--model", tiny_model)
    assert code == 0, err
    rows = rows_of(table)
    assert [int(r["frame"]) for r in rows] == list(range(len(times)))
    assert [float(r["time_ms"]) for r in rows] == pytest.approx(times, abs=1e-6)
    assert streams_of(out)["video_times_ms"] == pytest.approx(times, abs=0.5)


def test_rotation_metadata_gives_upright_frames_and_boxes(capsys, tmp_path, tiny_model):
    portrait = (360, 640)  # what the player shows: (width, height)

    def stored(i):  # a phone stores the picture turned: rotated 90 degrees counter-clockwise
        return cv2.rotate(face_frame(i, portrait), cv2.ROTATE_90_COUNTERCLOCKWISE)

    clip = write_clip(tmp_path / "phone.mp4", frames=12, size=(640, 360), rotation=-90, image=stored)
    with VideoFileSource(clip) as source:
        assert source.info.size == portrait
        first = next(source.frames())
    assert np.abs(first.image.astype(int) - face_frame(0, portrait)).mean() < 6  # upright, as played
    out, table = tmp_path / "out.mp4", tmp_path / "out.csv"
    code, err = run_cli(capsys, "--video", clip, "--output", out, "--csv", table, "--model", tiny_model)
    assert code == 0, err
    codec, frames, size, rotation = streams_of(out)["video"]
    assert (frames, size, rotation) == (12, portrait, 0)  # written upright, no rotation left to apply
    rows = rows_of(table)
    assert len(rows) == 12  # the detector found the (upright) face in every frame
    for row in rows:  # boxes in the upright frame, around the face tile
        x1, y1, x2, y2 = (float(row[k]) for k in ("x1", "y1", "x2", "y2"))
        assert 0 <= x1 < x2 <= 360 and 200 < y1 < y2 < 460


def test_damaged_packets_lose_only_their_frames(capsys, tmp_path, tiny_model):
    clean = write_clip(tmp_path / "clean.mp4", frames=36, codec="mpeg4")
    broken = damage_packets(clean, [15, 16], tmp_path / "broken.mp4")
    table, out = tmp_path / "out.csv", tmp_path / "out.mp4"
    code, err = run_cli(capsys, "--video", broken, "--output", out, "--csv", table, "--model", tiny_model)
    assert code == 0, err
    assert "2 frames could not be decoded" in err and "at frame 15 (1.25 s), 16 (1.33 s)" in err
    frames = [int(r["frame"]) for r in rows_of(table)]
    assert frames == [i for i in range(36) if i not in (15, 16)]  # every other frame, numbers keep the gap
    assert streams_of(out)["video"][1] == 34


def test_decoding_goes_on_after_h264_damage_and_counts_what_it_lost(tmp_path):
    clean = write_clip(tmp_path / "clean.mp4", frames=36, gop=6)
    broken = damage_packets(clean, [15], tmp_path / "broken.mp4")
    with VideoFileSource(broken) as source:
        frames = [f.index for f in source.frames()]
        lost = [item.position for item in source.lost]
    assert frames[-1] == 35 and 15 not in frames  # decoding resumed after the damaged packet
    assert len(frames) >= 36 - 6 and source.lost_frames == 36 - len(frames)  # at most the damaged GOP
    assert sorted(frames + lost) == list(range(36))


def test_interrupted_run_keeps_audio_up_to_the_cut(tmp_path, tiny_model):
    clip = write_clip(tmp_path / "long.mp4", frames=48, audio="aac")  # 4 s
    out, table, stop = tmp_path / "out.mp4", tmp_path / "out.csv", threading.Event()

    def progress(done, _total):
        if done == 12:
            stop.set()

    options = RunOptions(RecognizerOptions(model=tiny_model, lookahead=0), outputs=OutputOptions(output=out, csv=table))
    summary = run_video_job(clip, options, hooks=JobHooks(stop=stop, progress=progress))
    assert summary.interrupted and summary.codec == "libx264" and summary.audio == "copied"
    result = streams_of(out)
    frames = result["video"][1]
    assert frames == summary.frames == len(rows_of(table)) >= 12
    assert result["audio"][1] == pytest.approx(frames / FPS, abs=1 / FPS)  # audio ends with the video
    assert result["audio"][1] < 3.5


def test_frame_folder_keeps_file_numbers(capsys, tmp_path, tiny_model):
    folder = tmp_path / "cropped_aligned" / "video1"
    folder.mkdir(parents=True)
    for number in (1, 2, 3, 6, 8, 9, 10, 11):  # 4, 5 and 7 missing
        cv2.imwrite(str(folder / f"{number:05d}.jpg"), face_frame(number, (320, 240)))
    (folder / "00012.jpg").write_bytes(b"not a jpeg")
    (folder / "notes.txt").write_text("ignored")
    out, table = tmp_path / "out.mp4", tmp_path / "out.csv"
    code, err = run_cli(capsys, "--video", folder, "--fps", 30, "--output", out, "--csv", table,
                        "--model", tiny_model)
    assert code == 0, err
    rows = rows_of(table)
    assert [int(r["frame"]) for r in rows] == [1, 2, 3, 6, 8, 9, 10, 11]
    numbers = (1, 2, 3, 6, 8, 9, 10, 11)
    assert [float(r["time_ms"]) for r in rows] == pytest.approx([(n - 1) * 1000 / 30 for n in numbers], abs=1e-3)
    assert "1 frames could not be decoded" in err and "at frame 12" in err
    video = streams_of(out)
    assert video["video"][1:3] == (8, (320, 240))
    assert video["video_times_ms"][3] == pytest.approx(5 * 1000 / 30, abs=1)  # the gap stays a gap in time


def test_encoder_options(capsys, tmp_path, face_video, tiny_model):
    code, err = run_cli(capsys, "--video", face_video, "--output", tmp_path / "a.mp4", "--codec", "mpeg4",
                        "--crf", "5", "--model", tiny_model)
    assert code == 0, err
    assert streams_of(tmp_path / "a.mp4")["video"][:2] == ("mpeg4", 24)
    code, err = run_cli(capsys, "--video", face_video, "--output", tmp_path / "b.mkv", "--codec", "auto",
                        "--preset", "ultrafast", "--model", tiny_model)
    assert code == 0, err
    assert streams_of(tmp_path / "b.mkv")["video"][0] == "h264"  # CPU provider: libx264
    code, err = run_cli(capsys, "--video", face_video, "--output", tmp_path / "c.mp4", "--codec", "nosuch",
                        "--model", tiny_model)
    assert code == 2 and "--codec" in err and err.count("\n") == 1 and not (tmp_path / "c.mp4").exists()
    code, err = run_cli(capsys, "--video", face_video, "--output", tmp_path / "d.mp4", "--crf", "99",
                        "--model", tiny_model)
    assert code == 2 and "--crf" in err
    code, err = run_cli(capsys, "--video", face_video, "--csv", tmp_path / "e.csv", "--fps", "30",
                        "--model", tiny_model)
    assert code == 2 and "--fps" in err and "drop --fps" in err


def test_bench_measures_its_floor_with_the_same_encoder(capsys, clip_with_audio, tiny_model):
    import json

    code = main(["bench", "--video", str(clip_with_audio), "--preset", "ultrafast", "--json", "--model",
                 str(tiny_model), "--workers", "0"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert (report["codec"], report["preset"], report["frames"]) == ("libx264", "ultrafast", 24)
    assert report["io_only_fps"] > 0 and report["ratio"] == pytest.approx(report["fps"] / report["io_only_fps"],
                                                                           rel=0.01)
