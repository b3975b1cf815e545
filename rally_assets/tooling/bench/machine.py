"""The machine the benchmark ran on: CPU, RAM, PostgreSQL and its settings, the library versions."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from pathlib import Path

import psycopg


def cpu_yardstick_s(repeats: int = 3) -> float:
    """The best of `repeats` runs of a fixed pure-Python loop (10 million additions), in seconds: machines of
    one kind differ in speed from run to run, and every absolute time in the report scales with this one."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return round(best, 3)


def machine_info(admin_url: str) -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                "('shared_buffers', 'synchronous_commit', 'fsync', 'work_mem', 'max_wal_size', 'jit', 'autovacuum')"
            ).fetchall()
        )
    import dagster
    import pandas

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": ram_gib,
        "postgresql": pg,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "dagster": dagster.__version__,
        "psycopg": psycopg.__version__,
        "os": platform.platform(),
        "loadavg_start": list(os.getloadavg()),
        "cpu_yardstick_s": cpu_yardstick_s(),
    }
