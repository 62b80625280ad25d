"""`python -m rehearsal`: see rehearsal/__init__.py and `--help`."""

from rehearsal.cli import main

raise SystemExit(main())
