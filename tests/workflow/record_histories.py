"""Record the stored workflow histories (tests/histories/) by running the test that drives each
journey with OMS_RECORD_HISTORIES=1 (SQLite; each test starts its own Temporal dev server).

    python -m tests.workflow.record_histories               the journeys with no stored history yet
    python -m tests.workflow.record_histories --rebaseline  delete every stored history, record all

A new journey: add it to tests.workflow.histories.JOURNEYS, call `record_history` at the end of its
test, run this. `--rebaseline` only with a new Worker Deployment Version (README).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from tests.workflow.histories import HISTORIES, JOURNEYS, RECORD_ENV

ROOT = Path(__file__).resolve().parents[2]


def _missing() -> dict[str, str]:
    return {name: test for name, test in JOURNEYS.items() if not (HISTORIES / f"{name}.json").exists()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebaseline", action="store_true", help="delete every stored history first")
    args = parser.parse_args(argv)
    if args.rebaseline:
        for stored in HISTORIES.glob("*.json"):
            stored.unlink()
    missing = _missing()
    if not missing:
        print("every journey has its stored history")
        return 0
    tests = sorted(set(missing.values()))
    print(f"recording {', '.join(sorted(missing))}")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *tests]
    outcome = subprocess.call(command, cwd=ROOT, env={**os.environ, RECORD_ENV: "1"})
    left = sorted(_missing())
    if outcome or left:
        print(f"not recorded: {', '.join(left) or 'none'} (pytest exit code {outcome})", file=sys.stderr)
        return outcome or 1
    print(f"recorded {len(missing)} histories in {HISTORIES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
