"""What ``--output`` means for ``--image``: a trailing "/" or an existing folder is a folder, an image file name for
a folder of images is refused, a place that cannot be written is named as such (not blamed on the codec), and
``--image FOLDER`` searches sub-folders exactly as ``batch FOLDER`` does."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from tests.av_clips import run_cli, write_clip
from tests.conftest import face_frame


@pytest.fixture
def tree(tmp_path) -> Path:
    """photos/a.jpg, photos/trip/b.jpg, photos/trip/day2/c.png, and a hidden photos/.cache/d.jpg."""
    root = tmp_path / "photos"
    for relative, index in (("a.jpg", 0), ("trip/b.jpg", 4), ("trip/day2/c.png", 8), (".cache/d.jpg", 2)):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / relative), face_frame(index))
    return root


def test_one_image_into_a_folder_named_with_a_slash_keeps_its_name(capsys, tmp_path, tree, tiny_model):
    code, err = run_cli(capsys, "--image", tree / "a.jpg", "--output", f"{tmp_path / 'out'}/", "--model", tiny_model)
    assert code == 0, err
    assert (tmp_path / "out").is_dir() and [p.name for p in (tmp_path / "out").iterdir()] == ["a.jpg"]
    assert cv2.imread(str(tmp_path / "out" / "a.jpg")) is not None


def test_one_image_into_an_existing_folder_keeps_its_name(capsys, tmp_path, tree, tiny_model):
    (tmp_path / "existing").mkdir()
    code, err = run_cli(capsys, "--image", tree / "a.jpg", "--output", tmp_path / "existing", "--model", tiny_model)
    assert code == 0, err
    assert [p.name for p in (tmp_path / "existing").iterdir()] == ["a.jpg"]


def test_one_image_to_a_name_without_an_image_extension_is_refused(capsys, tmp_path, tree, tiny_model):
    code, err = run_cli(capsys, "--image", tree / "a.jpg", "--output", tmp_path / "result", "--model", tiny_model)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "image file name" in err, err
    assert not (tmp_path / "result").exists()


def test_a_folder_of_images_to_an_image_file_name_is_refused(capsys, tmp_path, tree, tiny_model):
    code, err = run_cli(capsys, "--image", tree, "--output", tmp_path / "single.jpg", "--model", tiny_model)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "expected a folder" in err, err
    assert not (tmp_path / "single.jpg").exists()


@pytest.mark.parametrize("mode", ["--video", "--image"])
def test_an_output_where_no_file_can_be_made_names_the_place_not_the_codec(capsys, tmp_path, tree, tiny_model, mode):
    source = write_clip(tmp_path / "clip.mp4", frames=4) if mode == "--video" else tree / "a.jpg"
    target = "/proc/out.mp4" if mode == "--video" else "/proc/out.jpg"
    code, err = run_cli(capsys, mode, source, "--output", target, "--model", tiny_model)
    assert code == 2 and target in err and "codec" not in err and "encoder" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_image_folders_are_searched_like_batch_folders(tmp_path, tree):
    """The same walk: sub-folders included, hidden ones skipped, the same order (videos here, images there)."""
    from realtime_fer.apps.batch.inputs import collect_inputs
    from realtime_fer.io.sources import ImageSource

    videos = tmp_path / "videos"
    for relative in ("a.jpg", "trip/b.jpg", "trip/day2/c.png", ".cache/d.jpg"):
        (videos / relative).parent.mkdir(parents=True, exist_ok=True)
        write_clip((videos / relative).with_suffix(".mp4"), frames=2, size=(64, 48))
    source = ImageSource(tree)
    try:
        assert source.names == ["a.jpg", "trip/b.jpg", "trip/day2/c.png"]
    finally:
        source.close()
    assert [item.key for item in collect_inputs([str(videos)])] == ["a", "trip/b", "trip/day2/c"]


def test_a_folder_of_images_mirrors_its_sub_folders(capsys, tmp_path, tree, tiny_model):
    out = tmp_path / "annotated"
    code, err = run_cli(capsys, "--image", tree, "--output", out, "--csv", tmp_path / "faces.csv", "--model",
                        tiny_model)
    assert code == 0, err
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.jpg", "trip/b.jpg", "trip/day2/c.png"]
    files = {line.rsplit(",", 1)[1] for line in (tmp_path / "faces.csv").read_text().splitlines()[1:]}
    assert files == {"a.jpg", "trip/b.jpg", "trip/day2/c.png"}


def test_an_output_folder_inside_the_input_folder_is_not_read_as_input(capsys, tree, tiny_model):
    for _ in range(2):  # the second run must not annotate the first run's outputs
        code, err = run_cli(capsys, "--image", tree, "--output", tree / "annotated", "--overwrite", "--model",
                            tiny_model)
        assert code == 0 and "3 images" in err, err
    assert not (tree / "annotated" / "annotated").exists()
