"""services.waiting: a process waits out what is not there yet with one line in the log, and does not
wait out a real error."""

from __future__ import annotations

import logging

import pytest

from services.waiting import wait_for

log = logging.getLogger("oms.test_waiting")


class NotThereYet(Exception):
    pass


async def test_it_tries_again_until_it_answers_and_says_so_once(caplog: pytest.LogCaptureFixture):
    tries: list[int] = []

    async def connect() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise NotThereYet("connection refused\nand a long report from the driver")
        return "connected"

    with caplog.at_level(logging.INFO, logger=log.name):
        assert await wait_for("the thing", connect, retry_on=(NotThereYet,), log=log, max_delay=0.2) == "connected"
    assert len(tries) == 3
    assert [record.getMessage() for record in caplog.records] == [
        "waiting for the thing (NotThereYet: connection refused); trying again every 0.2 s at most",
        caplog.records[1].getMessage(),
    ]
    assert caplog.records[1].getMessage().startswith("the thing is there, after")


async def test_what_is_there_at_once_logs_nothing(caplog: pytest.LogCaptureFixture):
    async def connect() -> int:
        return 7

    with caplog.at_level(logging.INFO, logger=log.name):
        assert await wait_for("the thing", connect, retry_on=(NotThereYet,), log=log) == 7
    assert caplog.records == []


async def test_a_real_error_is_not_waited_out():
    tries: list[int] = []

    async def connect() -> None:
        tries.append(1)
        raise ValueError("misconfigured")

    with pytest.raises(ValueError, match="misconfigured"):
        await wait_for("the thing", connect, retry_on=(NotThereYet,), log=log)
    assert tries == [1]
