"""``python -m drills``."""

from drills.cli import main

raise SystemExit(main())
