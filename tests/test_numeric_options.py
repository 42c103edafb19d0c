"""Every numeric option of ``realtime-fer`` and of every subcommand refuses an out-of-range value up front: exit 2 and one line that names
the option and its range (never an internal error, never a silent default). The walk finds the options in the
parsers themselves, so a new numeric option without a bad value here fails the test until it gets one."""

from __future__ import annotations

import re

import pytest

from realtime_fer.apps.cli import entry
from tests.av_clips import run_cli, write_clip

PARSERS = {"main": entry.build_parser, **{name: module.build_parser for name, module in entry.SUBCOMMANDS.items()}}
BAD = {"--fps": ["0", "-5", "5000"], "--detector-size": ["8", "99999"], "--detect-every": ["0"],
       "--min-confidence": ["-0.1", "1.5", "nan"], "--min-face": ["-1"], "--min-frames": ["0"],
       "--threads": ["-1", "100000"], "--detect-threads": ["-1", "100000"], "--tau": ["-1", "1000"],
       "--switch-margin": ["-0.1"], "--min-hold": ["-1"], "--lag": ["-1"], "--smoothing": ["1", "-0.5"],
       "--crf": ["55", "-1"], "--max-frames": ["0", "-3"], "--faces": ["0", "9"], "--frames": ["0", "-1"],
       "--repeats": ["0"], "--cpus-per-task": ["0", "-1"], "--gpus-per-task": ["-1"], "--port": ["-1", "70000"],
       "--max-bytes": ["0"], "--max-pixels": ["0"], "--max-streams": ["0"], "--max-analyze": ["0"],
       "--idle-timeout": ["0"], "--frame-timeout": ["-1"]}
WORKERS_BAD = {"batch": ["0", "-2"]}  # batch's worker processes; elsewhere the old name of --detect-threads
NOT_HERE = {("serve", "--lag")}
"""Options a subcommand takes from the shared groups but cannot use (serve is live, and never ends by itself)."""
RANGE = re.compile(r"[\[(]\s*-?\d[\d.]*\s*,\s*-?\d[\d.]*\s*[\])]|[<>]=?\s*-?\d|\d+\s*(?:-|\.\.)\s*\d+")


def numeric_options(command: str) -> list[str]:
    parser = PARSERS[command]()
    return sorted({action.option_strings[0] for action in parser._actions
                   if action.option_strings and action.type in (int, float)})


def cases():
    for command in PARSERS:
        for option in numeric_options(command):
            values = WORKERS_BAD.get(command, ["-1"]) if option == "--workers" else BAD.get(option, [None])
            for value in values:
                yield pytest.param(command, option, value, id=f"{command}{option}={value}")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", frames=6)


def _context(command: str, option: str, clip, tmp_path) -> list:
    """Arguments that reach the option's check (and, were a bad value let through, a short real run)."""
    if command == "main":
        return ["--video", clip, "--csv", tmp_path / "faces.csv"]
    if command == "bench":
        return ["--synthetic", "--frames", "3"] if option != "--frames" else ["--synthetic"]
    if command == "eval":
        return [clip, tmp_path / "labels.txt"]
    if command == "batch":
        return [clip, "--out", tmp_path / "out", "--quiet"]
    if command == "report":
        return [tmp_path / "faces.csv", "--out", tmp_path / "report"]
    return []  # serve: its options are checked before it listens


@pytest.mark.parametrize("command, option, value", list(cases()))
def test_every_numeric_option_refuses_an_out_of_range_value(capsys, tmp_path, tiny_model, clip, command, option,
                                                           value):
    assert value is not None, f"{command} {option}: give it an out-of-range value in BAD"
    prefix = [] if command == "main" else [command]
    model = [] if command == "report" else ["--model", tiny_model]
    code, err = run_cli(capsys, *prefix, *_context(command, option, clip, tmp_path), option, value, *model)
    lines = err.strip().splitlines()
    named = "--detect-threads" if option == "--workers" and command != "batch" else option  # the hidden old name
    assert code == 2, f"{command} {option} {value}: exit {code}, {err}"
    assert len(lines) == 1 and named in lines[0] and "internal error" not in err, err
    if (command, option) in NOT_HERE:  # refused whatever its value, which the message says
        assert "drop" in lines[0], lines[0]
    else:
        assert RANGE.search(lines[0].split(named, 1)[1]), f"no range in: {lines[0]}"


@pytest.mark.parametrize("codec, suffix, crf", [("mpeg4", ".mp4", "40"), (None, ".avi", "0"), (None, ".avi", "32"),
                                               ("libx264", ".mkv", "52"), ("libvpx-vp9", ".mkv", "30")])
def test_crf_is_checked_against_the_codec_the_output_gets(capsys, tmp_path, tiny_model, clip, codec, suffix, crf):
    out = tmp_path / f"out{suffix}"
    code, err = run_cli(capsys, "--video", clip, "--output", out, "--crf", crf, *(["--codec", codec] if codec else []),
                        "--model", tiny_model)
    assert code == 2 and "--crf" in err and len(err.strip().splitlines()) == 1, err
    assert codec or suffix != ".avi" or "for mjpeg" in err, err  # the range of the encoder .avi gets
    assert not out.exists()


def test_crf_ranges_follow_how_each_encoder_takes_the_quality():
    from realtime_fer.io.av_writer import quality_range

    assert quality_range("av1_nvenc") == quality_range("h264_nvenc") == (0, 51)  # every NVENC encoder takes CQ
    assert quality_range("mjpeg") == quality_range("mpeg4") == (1, 31) and quality_range("libvpx-vp9") is None
    assert quality_range(None) == (0, 51)  # before the codec is known: the loosest


def test_in_range_crf_values_of_each_codec_are_taken(capsys, tmp_path, tiny_model, clip):
    for codec, suffix, crf in (("mpeg4", ".mp4", "31"), (None, ".avi", "1"), (None, ".mp4", "51")):
        out = tmp_path / f"{codec}{suffix}"
        code, err = run_cli(capsys, "--video", clip, "--output", out, "--crf", crf,
                            *(["--codec", codec] if codec else []), "--model", tiny_model, "--max-frames", "2")
        assert code == 0 and out.is_file(), err


def test_batch_workers_default_is_the_core_count_not_a_zero_in_disguise():
    from realtime_fer.apps.cli.batch import _workers

    assert _workers(None) >= 1 and _workers(3) == 3 and _workers(0) == 0  # 0 reaches run_batch's check
