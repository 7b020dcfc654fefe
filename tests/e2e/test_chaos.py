"""The chaos run, short: 100 orders race for scarce stock through two worker processes on
PostgreSQL while one worker is SIGKILLed; nothing lost, doubled, oversold or charged wrong.

The full run (1,000 orders; workers, Temporal and then every process SIGKILLed) is
`python -m bench.chaos`; this is the same code with a smaller plan (bench/README.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.chaos import ChaosOptions, run_chaos
from tests.localstripe_server import localstripe_installed


async def test_orders_racing_through_a_worker_kill_are_all_kept_and_charged_exactly(
    postgres_url: str, tmp_path: Path
) -> None:
    if not localstripe_installed():
        message = "localstripe is not installed: pip install -e '.[dev]'"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    options = ChaosOptions(
        orders=100,
        concurrency=8,
        faults="one-kill",
        postgres_url=postgres_url,
        var_dir=tmp_path,
        timeout=150,
        database_prefix="oms_e2e_chaos_",  # an interrupted run's database is dropped by the next `make test`
    )

    report = await run_chaos(options, say=lambda message: print(f"chaos: {message}"))

    assert len(report.faults) == 1 and "SIGKILLed" in report.faults[0].what, report.text()
    assert report.settled_at is not None, report.text()
    assert report.ok, report.text()
