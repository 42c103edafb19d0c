"""Frames in and results out: camera/video/image sources, video/CSV/JSONL/image sinks, synthetic frames."""
