"""What a user meets at the command line: the help, the version, line-based progress and full-width tables
away from a terminal, and the small messages (camera index, frame sizes, annotation lengths)."""

from __future__ import annotations

import io

import cv2

from realtime_fer import __version__
from realtime_fer.apps.cli import main
from tests.conftest import face_frame
from tests.test_cli import run_cli
from tests.test_evaluate_video import HEADER


def test_help_lists_every_subcommand_with_one_line(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("  realtime-fer ")]
    assert listed == ["batch", "bench", "eval", "report", "serve"]
    for name in listed:
        assert run_cli(capsys, name, "--help")[0] == 0


def test_version(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.strip() == f"realtime-fer {__version__}"


def test_progress_away_from_a_terminal_is_plain_lines(monkeypatch, capsys):
    from realtime_fer.apps.cli import progress

    monkeypatch.setattr(progress, "LINE_PERIOD_S", 0.0)
    with progress.VideoProgress(live=False) as update:
        for done in (10, 20, 40):
            update(done, 40)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and lines[-1].startswith("realtime-fer: annotating 40/40 frames (100 %)")
    assert not any("\x1b" in line or "\r" in line for line in lines)  # no control codes, no redraws


def test_tables_into_a_file_are_not_cut_to_80_columns(monkeypatch):
    from rich.table import Table

    from realtime_fer.apps import console

    stream = io.StringIO()
    monkeypatch.setattr("sys.stdout", stream)
    table = Table("setting", "ABAW F1")
    table.add_row("offline tau=0.5s margin=0.3 hold=0.8s lag=1s " + "x" * 60, "0.4321")
    console.rich_console().print(table)
    assert "…" not in stream.getvalue() and "x" * 60 in stream.getvalue()


def test_a_camera_that_does_not_open_suggests_another_index():
    from realtime_fer.io.sources import camera_error

    assert camera_error(0, False).endswith("(e.g. --camera 1)")
    assert camera_error(3, False).endswith("(e.g. --camera 0)")


def test_a_frame_of_another_size_in_a_frame_folder_is_reported_not_stretched(capsys, tmp_path, tiny_model):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(1, 7):
        image = face_frame(i) if i != 4 else cv2.resize(face_frame(i), (100, 100))
        cv2.imwrite(str(folder / f"{i:05d}.png"), image)
    table = tmp_path / "faces.csv"
    code, _, err = run_cli(capsys, "--video", folder, "--fps", "10", "--csv", table, "--model", tiny_model)
    assert code == 0 and "00004.png at 100x100" in err and "never stretched" in err
    frames = {line.split(",")[0] for line in table.read_text().splitlines()[1:]}
    assert frames == {"1", "2", "3", "5", "6"}  # the CSV keeps the file numbers; 00004.png left out


def test_eval_warns_when_the_annotation_does_not_fit_the_video(capsys, tmp_path, face_video, tiny_model):
    annotation = tmp_path / "face.txt"
    annotation.write_text(HEADER + "\n" + "\n".join(["4"] * 30) + "\n")  # the video has 24 frames
    code = main(["eval", str(face_video), str(annotation), "--json", "--model", str(tiny_model)])
    err = capsys.readouterr().err
    assert code == 0 and "got 30 labels for 24 frames" in err and "check the pairing" in err
    annotation.write_text(HEADER + "\n" + "\n".join(["4"] * 20) + "\n")
    main(["eval", str(face_video), str(annotation), "--json", "--model", str(tiny_model)])
    assert "the last 4 frames are not scored" in capsys.readouterr().err
    annotation.write_text(HEADER + "\n" + "\n".join(["4"] * 24) + "\n")
    main(["eval", str(face_video), str(annotation), "--json", "--model", str(tiny_model)])
    assert "warning" not in capsys.readouterr().err
