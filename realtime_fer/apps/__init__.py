"""Applications on top of the core and io layers, in layers (each imports only those below it):

``console`` (program name, exit codes, messages, signals) < ``render`` (overlay, report) < ``engine`` (the loop,
options as values, video jobs, evaluation, benchmarks; never prints) < ``batch`` (corpora on worker processes or
Ray) < ``cli`` (the command lines: the only place that prints, exits or opens windows).
"""
