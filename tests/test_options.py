"""Options as values: frozen, validated when built, and built by one function for both command lines."""

from __future__ import annotations

import dataclasses

import pytest

from realtime_fer.apps.cli import batch, entry
from realtime_fer.apps.cli.arguments import run_options
from realtime_fer.apps.engine.options import EncoderOptions, RecognizerOptions, RunOptions
from realtime_fer.core.temporal import LIVE_DEFAULT, OFFLINE_DEFAULT
from realtime_fer.errors import InputError


@pytest.mark.parametrize("fields, option", [
    ({"detect_every": 0}, "--detect-every"), ({"min_confidence": 1.5}, "--min-confidence"),
    ({"threads": -1}, "--threads"), ({"lookahead": -1}, "--detect-threads"), ({"provider": "tpu"}, "--provider"),
    ({"detector_range": "far"}, "--range")])
def test_a_bad_recognizer_option_is_refused_when_built(fields, option):
    with pytest.raises(InputError, match=option):
        RecognizerOptions(**fields)


def test_options_are_frozen_and_checked():
    options = RunOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.max_frames = 3
    with pytest.raises(InputError, match="--crf"):
        EncoderOptions(crf=70)
    with pytest.raises(InputError, match="--max-frames"):
        RunOptions(max_frames=0)
    with pytest.raises(InputError, match="TemporalSettings"):
        RunOptions(temporal="offline")


def test_both_command_lines_build_the_same_values_from_the_same_options():
    common = ["--model", "m.onnx", "--range", "full", "--detect-every", "3", "--min-confidence", "0.6",
              "--threads", "2", "--temporal", "live", "--tau", "0.2", "--max-frames", "9"]
    main_args = entry.build_parser().parse_args(["--video", "in.mp4", "--csv", "x.csv", *common])
    batch_args = batch.build_parser().parse_args(["in.mp4", "--out", "out", *common])
    video, corpus = run_options(main_args, "video"), run_options(batch_args, "batch")
    assert video.recognizer == corpus.recognizer == RecognizerOptions(
        model="m.onnx", detector_range="full", detect_every=3, min_confidence=0.6, threads=2)
    assert video.temporal == corpus.temporal == LIVE_DEFAULT.with_(tau_s=0.2)
    assert video.max_frames == corpus.max_frames == 9
    assert run_options(entry.build_parser().parse_args(["--video", "in.mp4"]), "video").temporal == OFFLINE_DEFAULT
    helps = [{a.dest: a.help for a in parser._actions if a.dest in ("detect_every", "tau", "threads")}
             for parser in (entry.build_parser(), batch.build_parser())]
    assert helps[0] == helps[1]  # one help text per option
