"""``python -m realtime_fer`` runs the CLI."""

from .apps.cli.entry import main

raise SystemExit(main())
