"""The recognizer core: value types, detection, alignment, classification, tracking, smoothing, the pipeline."""
