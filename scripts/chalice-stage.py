#!/usr/bin/env python3
"""Exits 0 when STAGE is a stage of .chalice/config.json, else 1 naming the stages there are.

    scripts/chalice-stage.py STAGE

`chalice package --stage typo` packages happily with only the top-level settings, so `make package` checks
first: a typo must stop the build, not reach AWS as a stage nobody configured.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0]:
        print("usage: scripts/chalice-stage.py STAGE", file=sys.stderr)
        return 2
    stage = argv[0]
    stages = sorted(json.loads(CONFIG.read_text(encoding="utf-8")).get("stages", {}))
    if stage not in stages:
        known = ", ".join(stages) or "none"
        print(f"error: no stage {stage!r} in .chalice/config.json; its stages: {known}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
