"""Which expression model each mode runs without --model: photos the photo model, every video mode the video model
chosen on talking faces (docs/models.md); --model overrides both; the Python API's presets match the CLI's."""

from __future__ import annotations

import pytest

from realtime_fer.apps.engine.modes import MODE_DEFAULTS
from realtime_fer.apps.engine.options import RecognizerOptions
from realtime_fer.apps.engine.recognizer_setup import open_recognizer
from realtime_fer.core.classify import DEFAULT_CPU_MODEL, DEFAULT_MODEL, VIDEO_MODEL, default_model
from realtime_fer.core.pipeline import Recognizer

EXPECTED = {"image": DEFAULT_CPU_MODEL, "camera": VIDEO_MODEL, "video": VIDEO_MODEL, "batch": VIDEO_MODEL,
            "eval": VIDEO_MODEL, "bench": VIDEO_MODEL}


def test_every_mode_is_listed():
    assert set(MODE_DEFAULTS) == set(EXPECTED)


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_each_mode_runs_its_documented_model_on_cpu(mode):
    with open_recognizer(RecognizerOptions(provider="cpu"), mode) as recognizer:
        assert recognizer.classifier.model_path == EXPECTED[mode]


def test_model_overrides_the_mode_default():
    compact = VIDEO_MODEL.with_name("expression-compact.onnx")
    for mode in ("image", "video"):
        with open_recognizer(RecognizerOptions(model=compact, provider="cpu"), mode) as recognizer:
            assert recognizer.classifier.model_path == compact


def test_default_model_by_media_and_provider():
    assert default_model("CPUExecutionProvider", "video") == VIDEO_MODEL
    assert default_model("CUDAExecutionProvider", "video") == VIDEO_MODEL
    assert default_model("CPUExecutionProvider", "photo") == DEFAULT_CPU_MODEL
    assert default_model("CUDAExecutionProvider", "photo") == DEFAULT_MODEL
    with pytest.raises(ValueError, match="media"):
        default_model("CPUExecutionProvider", "stills")


def test_the_video_model_is_the_compact_model_with_offsets_and_says_so():
    from realtime_fer.core.model_card import file_sha256, load_card

    card = load_card(VIDEO_MODEL)
    compact = VIDEO_MODEL.with_name("expression-compact.onnx")
    assert card.output_kind == "logits" and card.input == load_card(compact).input
    assert card.training["base_sha256"] == file_sha256(compact)
    assert card.training["offsets"]["neutral"] > 0 > card.training["offsets"]["disgust"]
    held_out = card.metrics["talking_cv"]["offline"]
    assert held_out["clip_accuracy"] >= 0.85 and held_out["neutral_shown_neutral"] >= 0.8


def test_the_api_presets_run_what_the_cli_modes_run():
    with Recognizer.for_photos(provider="cpu") as photos, Recognizer.for_video(provider="cpu") as video:
        for recognizer, mode in ((photos, "image"), (video, "camera")):
            with open_recognizer(RecognizerOptions(provider="cpu"), mode) as cli:
                assert recognizer.classifier.model_path == cli.classifier.model_path
                assert recognizer.detector.min_size == cli.detector.min_size
                assert type(recognizer.detector.detector) is type(cli.detector.detector)
                assert type(recognizer.discovery) is type(cli.discovery)
        assert photos.classifier.model_path == DEFAULT_CPU_MODEL and photos.stills and not video.stills
        assert video.classifier.model_path == VIDEO_MODEL and video.tracker.min_hits == 3
        assert type(photos.detector.detector).__name__ == "CenterFaceDetector"
        assert photos.detector.min_size == 10.0 and video.detector.min_size == 20.0
