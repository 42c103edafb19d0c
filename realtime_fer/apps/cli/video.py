"""``realtime-fer --video`` and ``--image``: run the engine on files, print the summary and the warnings."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ...errors import InputError
from ..console import EXIT_OK, EXIT_RUNTIME, EXIT_SIGNAL, StopOnSignal, rich_console, say, warn
from ..engine.options import RunOptions


def run_video(args, options: RunOptions, stop: StopOnSignal) -> int:
    """Annotate ``args.video``; the exit code (warnings for lost, concealed or missing frames)."""
    from ..engine.video_job import JobHooks, run_video_job
    from ..engine.video_report import VideoReport
    from .progress import VideoProgress

    if not (options.outputs.any or args.report):
        raise InputError("--video: expected at least one of --output, --csv, --jsonl, --report, got none; "
                         "e.g. --output OUT.mp4")
    report = VideoReport.prepare(args.report, options.outputs.csv, overwrite=options.outputs.overwrite,
                                 inputs=(args.video,))
    with VideoProgress() as progress:
        result = run_video_job(args.video, options, fps=args.fps,
                               hooks=JobHooks(stop=stop.event, progress=progress, extra_tables=report.tables))
    shown, written = report.finish()
    if shown is not None:
        print_summary(shown)
    if written is not None and not written["tracks"]:
        warn(f"--report {args.report}: no face was found, so the report has no tracks")
    outputs = ", ".join(str(p) for p in (args.output, args.csv, args.jsonl, args.report) if p)
    encoded = f" ({result.codec}, audio {result.audio or 'none'})" if result.codec else ""
    say(f"{result.frames} frames, {result.faces} faces, {result.fps:.1f} fps -> {outputs}{encoded}")
    return _video_exit_code(args.video, result, stop)


def _video_exit_code(video, result, stop: StopOnSignal) -> int:
    if stop.signum is not None:
        warn(f"interrupted after {result.frames} frames; outputs finalized up to the last processed frame")
        return EXIT_SIGNAL[stop.signum]
    if result.end_reason.startswith("error"):
        warn(f"{video}: reading stopped after {result.frames} frames ({result.end_reason}); "
             "outputs finalized up to the last processed frame")
        return EXIT_RUNTIME
    if result.lost_frames:
        where = ", ".join(f"{frame} ({time_ms / 1000:.2f} s)" for frame, time_ms in result.lost[:10])
        more = ", ..." if result.lost_frames > 10 else ""
        warn(f"{video}: {result.lost_frames} frames could not be decoded (damaged), at frame {where}{more}; "
             "the outputs hold all the other frames, and the CSV's frame numbers keep the gaps")
    if result.missized:
        name, width, height = result.missized[0]
        more = f" and {len(result.missized) - 1} more" if len(result.missized) > 1 else ""
        warn(f"{video}: expected every frame at the size of the first, got {name} at {width}x{height}{more}; "
             "left out of the outputs (never stretched): resize them to match, or remove them")
    if result.concealed_frames:
        warn(f"{video}: {result.concealed_frames} frames decoded with errors concealed (damaged data); "
             "they are in the outputs but may show artefacts")
    if result.truncated:
        warn(f"decoded {result.frames} of the ~{result.expected_frames} frames {video} announces; "
             "the file may be truncated or damaged (outputs cover the decodable frames)")
    return EXIT_OK


def print_summary(summary: dict, title: str = "expressions per track") -> None:
    """A short table on stderr: per track frames, time span, dominant label and the top shares."""
    from rich.table import Table

    table = Table("track", "frames", "seconds", "dominant", "shares", title=title)
    for entry in summary["tracks"]:
        top = sorted(entry["shares"].items(), key=lambda kv: -kv[1])[:3]
        table.add_row(str(entry["track_id"]), str(entry["frames"]), f"{entry['start_s']:.1f}-{entry['end_s']:.1f}",
                      entry["dominant"], ", ".join(f"{n} {100 * s:.0f} %" for n, s in top if s > 0))
    rich_console(stderr=True).print(table)


def run_images(args, options: RunOptions, stop: StopOnSignal) -> int:
    """Annotate an image or a folder of images; without outputs, print a table of the faces."""
    from ...core.temporal import open_stage
    from ...io.sinks import ImageSink
    from ...io.sources import ImageSource
    from ..engine.loop import Hooks, Sinks, run
    from ..engine.recognizer_setup import open_recognizer
    from ..engine.video_job import check_outputs, table_sinks
    from ..render.overlay import Overlay

    outputs = options.outputs
    folder = Path(args.image).is_dir()
    target = image_target(args.image, outputs.output, folder)
    check_outputs((args.image,), target, outputs.csv, outputs.jsonl, overwrite=outputs.overwrite,
                  output_folder=folder)
    source = ImageSource(args.image, max_frames=options.max_frames, warn=warn,
                         exclude=target.absolute() if folder and target else None)
    printed = None if outputs.any else []
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        recognizer = stack.enter_context(open_recognizer(options.recognizer, "image"))
        images = None
        if target:
            images = stack.enter_context(ImageSink(target, folder=folder, overwrite=outputs.overwrite))
            images.check_names(source.names if folder else [None])
        tables = table_sinks(recognizer.labels, outputs.csv, outputs.jsonl, with_file=True,
                             overwrite=outputs.overwrite, stack=stack)

        def collect(frame, result, _stats):
            if printed is not None:
                printed.append((frame.name, result))

        stats = run(source, recognizer, open_stage(options.temporal), Sinks(tables=tables, images=images),
                    overlay=Overlay(recognizer.labels), hooks=Hooks(on_frame=collect, stop=stop.event),
                    hud=outputs.hud, reset_each_frame=True)
    if printed is not None:
        _print_image_results(printed)
    say(f"{stats.frames} images, {stats.faces} faces" + (f", {len(source.skipped)} skipped" if source.skipped else ""))
    return EXIT_SIGNAL[stop.signum] if stop.signum is not None else EXIT_OK


def image_target(image: str, output, folder_input: bool) -> Path | None:
    """Where ``--image IMAGE --output OUTPUT`` writes: a folder for a folder of images; for one image the file
    named, or the image's own name inside OUTPUT when OUTPUT ends in "/" or is an existing folder.

    Raises InputError for a file name with an image extension given for a folder of images, and for a single
    image's output without an image extension (it would be a file without a type, or a folder by mistake).
    """
    from ...io.sources import IMAGE_EXTENSIONS

    if not output:
        return None
    path, text = Path(output), str(output)
    as_folder = text.endswith(("/", os.sep)) or path.is_dir()
    suffix = path.suffix.lower()
    if folder_input:
        if not as_folder and suffix in IMAGE_EXTENSIONS:
            raise InputError(f"--output {output}: expected a folder for the images of the folder {image}, got a "
                             f"file name with an image extension; pass a folder, e.g. --output annotated/")
        return path
    if as_folder:
        return path / Path(image).name
    if suffix not in IMAGE_EXTENSIONS:
        raise InputError(f"--output {output}: expected an image file name (.jpg, .png, ...) or a folder (ending "
                         f"in /) for one image, got {repr(suffix) if suffix else 'no extension'}; e.g. --output "
                         "annotated.jpg or --output annotated/")
    return path


def _print_image_results(items) -> None:
    from rich.table import Table

    table = Table("file", "track", "label", "confidence", "box (x1, y1, x2, y2)")
    for name, result in items:
        if not len(result.faces):
            table.add_row(name, "-", "no face", "", "")
        for k, (label, confidence) in enumerate(result.top()):
            box = ", ".join(f"{v:.0f}" for v in result.faces.boxes[k])
            table.add_row(name, str(result.faces.track_ids[k]), label, f"{confidence:.2f}", box)
    rich_console().print(table)
