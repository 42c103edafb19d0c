"""Video files through PyAV on the real samples: the H.264 + AAC Pexels clip, the HEVC .mov files,
and a damaged copy of the Pexels clip (skips when ../shared/data is absent)."""

from __future__ import annotations


import numpy as np
import pytest

from realtime_fer.io.sources import VideoFileSource
from tests.av_clips import rows_of, run_cli, streams_of

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def videos(data_dir):
    return data_dir / "samples" / "videos"


def test_pexels_clip_keeps_its_audio_and_becomes_h264(capsys, tmp_path, videos, tiny_model):
    source = videos / "WolfgangLanger_Pexels.mp4"
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, "--video", source, "--output", out, "--model", tiny_model)
    assert code == 0 and "warning" not in err, err
    before, after = streams_of(source), streams_of(out)
    assert after["video"][:3] == ("h264", 472, (640, 360))
    assert after["audio"][0] == "aac" and after["audio"][1] == pytest.approx(before["audio"][1], abs=1 / 23.976)
    assert after["video_times_ms"] == pytest.approx(before["video_times_ms"], abs=0.5)


@pytest.mark.parametrize("name", ["face_noface.mov", "noface_face.mov"])
def test_hevc_mov_with_audio(capsys, tmp_path, videos, tiny_model, name):
    source = videos / name
    out, table = tmp_path / "out.mov", tmp_path / "out.csv"
    code, err = run_cli(capsys, "--video", source, "--output", out, "--csv", table, "--model", tiny_model)
    assert code == 0, err
    before, after = streams_of(source), streams_of(out)
    assert before["video"][0] == "hevc" and after["video"][:3] == ("h264", 169, (960, 540))
    assert after["audio"][0] == "aac" and after["audio"][1] == pytest.approx(before["audio"][1], abs=0.05)
    frames = {int(r["frame"]) for r in rows_of(table)}
    assert 10 < len(frames) < 169  # the face comes and goes
    times = {int(r["frame"]): float(r["time_ms"]) for r in rows_of(table)}
    assert all(times[f] == pytest.approx(before["video_times_ms"][f], abs=0.01) for f in frames)


def test_damaged_pexels_copy_keeps_every_decodable_frame(capsys, tmp_path, videos, tiny_model):
    data = bytearray((videos / "WolfgangLanger_Pexels.mp4").read_bytes())
    rng = np.random.default_rng(1)
    for position in rng.integers(len(data) // 3, 2 * len(data) // 3, 200):  # 200 bytes flipped mid-file
        data[position] ^= 0xFF
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with VideoFileSource(damaged) as source:
        positions = [frame.index for frame in source.frames()]
        lost = source.lost_frames
    # measured: 470 decoded + 2 lost; OpenCV's reader stops after 182 frames of this copy
    assert len(positions) + lost == 472 and lost >= 1 and len(positions) >= 465
    table = tmp_path / "out.csv"
    code, err = run_cli(capsys, "--video", damaged, "--csv", table, "--model", tiny_model)
    assert code == 0 and f"{lost} frames could not be decoded" in err, err
    in_table = {int(r["frame"]) for r in rows_of(table)}
    # the face in most frames (damaged ones can hide it), up to the end of the clip
    assert in_table <= set(positions) and len(in_table) >= 0.85 * len(positions) and max(in_table) >= 465
