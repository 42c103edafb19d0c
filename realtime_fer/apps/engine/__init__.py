"""The engine: runs jobs without printing (the loop, options as values, video jobs, evaluation, benchmarks)."""
