"""``python -m preflight --stack dev``: see ``preflight.cli``."""

from preflight.cli import main

if __name__ == "__main__":
    main()
