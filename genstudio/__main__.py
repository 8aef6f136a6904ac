"""``python -m genstudio`` behaves exactly like the ``genstudio`` command."""

from genstudio.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
