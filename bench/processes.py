"""The engine's processes on this machine, found by the port each listens on, and what they use:
CPU seconds (user + system) and resident memory. The benchmark samples them around a phase and
divides by the orders of that phase. An engine on another machine has none here: None, said as n/a."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil


@dataclass(frozen=True)
class Sample:
    cpu_seconds: float
    rss_bytes: int


def port_of(address: str, default: int) -> int:
    """The port of `http://host:port/...` or `host:port`."""
    parsed = urlsplit(address if "//" in address else f"//{address}")
    return parsed.port or default


def listening_pids(port: int) -> list[int]:
    """Processes with a socket listening on `port` (every uvicorn worker sharing it)."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return []
    return sorted(
        {
            each.pid
            for each in connections
            if each.pid is not None and each.status == psutil.CONN_LISTEN and each.laddr and each.laddr.port == port
        }
    )


def sample(pids: list[int]) -> Sample | None:
    """CPU and memory of `pids` together, or None when one of them cannot be read."""
    if not pids:
        return None
    cpu, rss = 0.0, 0
    try:
        for pid in pids:
            process = psutil.Process(pid)
            times = process.cpu_times()
            cpu += times.user + times.system
            rss += process.memory_info().rss
    except psutil.Error:
        return None
    return Sample(cpu, rss)


def sample_all(processes: Mapping[str, list[int]]) -> dict[str, Sample | None]:
    return {name: sample(pids) for name, pids in processes.items()}


def used(before: Mapping[str, Sample | None], after: Mapping[str, Sample | None]) -> dict[str, float | None]:
    """CPU seconds each process used between two samples."""
    spent: dict[str, float | None] = {}
    for name, first in before.items():
        last = after.get(name)
        spent[name] = None if first is None or last is None else last.cpu_seconds - first.cpu_seconds
    return spent
