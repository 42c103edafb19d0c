"""``python -m realtime_fer.apps.cli`` runs the CLI."""

import sys

from .entry import main

sys.exit(main())
