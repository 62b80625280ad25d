"""`python -m controller.client`: the CI client (standard library only)."""

import sys

from controller.client.cli import main

sys.exit(main())
