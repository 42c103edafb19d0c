"""Applications on top of the core and io layers: the CLI, the live window, the annotation loop, benchmarks, drawing."""
