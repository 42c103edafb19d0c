import cv2
import numpy as np
import pytest

from realtime_fer import InputError, Recognizer
from realtime_fer.core.pipeline import STAGES, as_bgr
from tests.images import astronaut_bgr, face_tile, scene
from tests.tiny_model import write_tiny_model


@pytest.fixture(scope="module")
def recognizer(tmp_path_factory):
    model = write_tiny_model(tmp_path_factory.mktemp("model"))
    from realtime_fer.core.temporal import LIVE_DEFAULT, TemporalSettings

    temporal = LIVE_DEFAULT.with_(tau_s=TemporalSettings.tau_from_ema_weight(0.5))
    with Recognizer(model, provider="cpu", temporal=temporal, detector_range="full") as rec:
        yield rec


def test_real_face_is_found_classified_and_timed(recognizer):
    recognizer.reset()
    result = recognizer.process(astronaut_bgr())
    assert len(result.faces) == 1
    x1, y1, x2, y2 = result.faces.boxes[0]
    assert 160 < x1 < 200 and 60 < y1 < 100 and 250 < x2 < 290 and 160 < y2 < 200
    assert result.faces.track_ids.tolist() == [1]
    assert result.faces.raw_probs.shape == (1, 7) and result.faces.probs.shape == (1, 7)
    assert set(STAGES) <= set(result.timings_ms)
    label, confidence = result.top()[0]  # the first frame of a track: the argmax of its probabilities
    best = int(result.faces.probs[0].argmax())
    assert label == recognizer.labels[best] and confidence == pytest.approx(float(result.faces.probs[0, best]))


def test_five_faces_one_batch_and_stable_ids_while_moving(recognizer):
    recognizer.reset()
    ids = []
    for step in range(4):
        result = recognizer.process(scene(5, shift=6 * step))
        assert len(result.faces) == 5
        order = np.argsort(result.faces.boxes[:, 0])
        ids.append(result.faces.track_ids[order].tolist())
    assert ids[0] == ids[-1] and len(set(ids[0])) == 5


def test_smoothing_mixes_consecutive_frames(recognizer):
    recognizer.reset()
    bright = scene(1)
    dark = (scene(1) * 0.4).astype(np.uint8)
    first = recognizer.process(bright)
    second = recognizer.process(dark)
    assert not np.allclose(second.faces.raw_probs, first.faces.raw_probs)
    expected = 0.5 * first.faces.probs + 0.5 * second.faces.raw_probs
    assert second.faces.probs == pytest.approx(expected, abs=1e-5)


def test_no_face_frame(recognizer):
    result = recognizer.process(np.full((360, 640, 3), 127, np.uint8))
    assert len(result.faces) == 0 and result.top() == []
    assert result.faces.raw_probs.shape == (0, 7)


@pytest.mark.parametrize("convert", ["grey", "bgra", "grey3"])
def test_grey_and_rgba_frames(recognizer, convert):
    recognizer.reset()
    image = astronaut_bgr()
    frame = {"grey": cv2.cvtColor(image, cv2.COLOR_BGR2GRAY),
             "bgra": cv2.cvtColor(image, cv2.COLOR_BGR2BGRA),
             "grey3": cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[:, :, None]}[convert]
    assert len(recognizer.process(frame).faces) == 1


def test_4k_frame_and_tiny_face(recognizer):
    recognizer.reset()
    frame = np.full((2160, 3840, 3), 90, np.uint8)
    frame[1000:1400, 1700:2100] = face_tile(400)
    result = recognizer.process(frame)
    assert len(result.faces) == 1 and result.faces.boxes[0, 0] > 1600
    short = Recognizer(recognizer.classifier.model_path, provider="cpu", detector_range="short")
    with short:
        assert len(short.process(scene(1)).faces) == 0  # the webcam model misses small faces, as documented
    tiny = np.full((360, 640, 3), 90, np.uint8)
    tiny[100:124, 300:324] = face_tile(24)  # far below BlazeFace's range (measured: nothing found up to 48 px)
    result = recognizer.process(tiny)
    assert len(result.faces) == 0 and result.faces.raw_probs.shape == (0, 7) and result.top() == []


def test_detect_every_coasts_between_detections(tmp_path):
    model = write_tiny_model(tmp_path)
    with Recognizer(model, provider="cpu", detect_every=3, detector_range="full") as rec:
        results = [rec.process(scene(2, shift=3 * i)) for i in range(6)]
    assert all(len(r.faces) == 2 for r in results)
    assert results[1].timings_ms["detect"] < 0.5 * results[0].timings_ms["detect"] + 0.2
    assert {tuple(sorted(r.faces.track_ids)) for r in results} == {(1, 2)}


def test_bad_frame_shape():
    with pytest.raises(InputError, match="frame: expected"):
        as_bgr(np.zeros((4, 4, 2), np.uint8))


@pytest.mark.parametrize("strategy, expected", [("auto", 1), ("both", 2)])
def test_multi_range_detection(strategy, expected):
    """A big near face plus a small far one: auto keeps the near face (short range found it),
    both also adds the far face that only the full-range model sees."""
    from realtime_fer.core.detect import create_detector

    frame = np.full((540, 960, 3), 90, np.uint8)
    frame[100:400, 60:360] = face_tile(300)
    frame[200:360, 700:860] = face_tile(160)
    with create_detector("blazeface", strategy) as detector:
        assert len(detector.detect(frame)) == expected
        assert len(detector.detect(scene(1))) == 1  # short finds nothing here; full does


def test_stream_yields_results_in_order_for_arrays_and_source_frames(recognizer):
    from realtime_fer.io.sources import SourceFrame

    recognizer.reset()
    frames = [scene(1, shift=4 * i) for i in range(3)]
    results = [r for _, r in recognizer.stream(frames)]
    assert [r.index for r in results] == [0, 1, 2] and all(len(r.faces) == 1 for r in results)
    items = [SourceFrame(index=10 + i, time_ms=500.0 + i, image=f) for i, f in enumerate(frames)]
    out = list(recognizer.stream(items))
    assert [(r.index, r.time_ms) for _, r in out] == [(10, 500.0), (11, 501.0), (12, 502.0)]
    assert out[0][0] is frames[0]


@pytest.mark.parametrize("color, expected", [("rgb", "happy"), ("bgr", "sad")])
def test_a_colour_model_gets_its_crops_in_the_colour_order_its_sidecar_names(tmp_path, color, expected):
    """A model whose "happy" logit is 40 * (mean of input channel 0 - mean of channel 2) on 0..1 pixels: the
    astronaut's skin is redder than it is blue, so channel 0 must be red for an "rgb" model (happy) and blue for a
    "bgr" one (sad, logit 0 beats a negative one)."""
    import json

    from tests.tiny_model import LABELS7

    weights = np.zeros((48 * 48 * 3, 7), np.float32)  # NHWC flattened: pixel-major, channel-minor
    weights[0::3, LABELS7.index("happy")] = 40.0 / (48 * 48)
    weights[2::3, LABELS7.index("happy")] = -40.0 / (48 * 48)
    bias = np.full(7, -100.0, np.float32)
    bias[LABELS7.index("happy")] = bias[LABELS7.index("sad")] = 0.0
    model = write_tiny_model(tmp_path, channels=3, weights=weights, bias=bias)
    card = json.loads(model.with_suffix(".json").read_text())
    card["input"].update(color=color, mean=[0.0, 0.0, 0.0], std=[1.0, 1.0, 1.0])
    model.with_suffix(".json").write_text(json.dumps(card))
    with Recognizer(model, provider="cpu") as recognizer:
        result = recognizer.process(astronaut_bgr())
    assert len(result.faces) == 1 and result.top()[0][0] == expected
