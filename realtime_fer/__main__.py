"""``python -m realtime_fer`` runs the CLI."""

from .apps.cli import main

raise SystemExit(main())
