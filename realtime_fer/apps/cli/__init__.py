"""The command lines: ``realtime-fer`` (``entry.main``) and its subcommands ``batch``, ``bench``, ``eval``,
``report``. The only package that prints, exits or opens windows."""

from .entry import main

__all__ = ["main"]
