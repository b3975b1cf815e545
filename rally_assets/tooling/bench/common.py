"""What every part of the benchmark shares: the paths, the stages, the targets, the clock and the RSS."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

from rally_assets.core.constants import FACT_TABLES, REFERENCE_TABLES

PROJECT_ROOT = Path(__file__).resolve().parents[3]
REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "rally_real"
STAGES = ("parse", "stage", "snapshot", "publish", "discovery", "checks")
OLD_ETL_MEDIAN_S = 13.3  # the old importer on import_1, median on this machine kind (issue 13's measurement)
OLD_ETL_STATEMENTS = 68_668
OLD_ETL_SPEEDUP = 8.0  # a cold `rally import import_1` at least this many times faster than the old importer
REAL_USERS = 1_000  # users added between import_1 and import_2
HEALTH_USERS = 100_000
SENSOR_FOLDERS = 1_000
FULL_MULTIPLIERS = (1, 10, 100)
QUICK_MULTIPLIERS = (1, 10)
DAEMON_LEAGUE = "NSTF"  # the league imported through `dagster dev` and, alone, through the cold CLI
PREVIOUS_100X_S = 96.0  # the 100x import before issue 13 (BENCHMARKS.md of 2026-11-22)
# The live tables the publish writes rows to, parents first (the floor COPYs the same rows into empty
# copies of them): the ETL's tables, and series_leagues where the app's series are global.
LIVE_TABLES = (*REFERENCE_TABLES, "series_leagues", *FACT_TABLES)
# key -> (comparison, target, what it is)
TARGETS = {
    "real_import_cold_cli_s": (
        "<=",
        round(OLD_ETL_MEDIAN_S / OLD_ETL_SPEEDUP, 3),
        f"cold `rally import import_1` (3 leagues, every check), s; the old importer / {OLD_ETL_SPEEDUP:g}",
    ),
    "speedup_vs_old_etl": (
        ">=",
        OLD_ETL_SPEEDUP,
        f"old importer ({OLD_ETL_MEDIAN_S} s) / cold `rally import import_1`",
    ),
    "cold_cli_vs_domain": ("<=", 2.0, "cold `rally import import_1` / the domain functions alone on the same files"),
    "daemon_vs_cli": ("<=", 1.5, f"{DAEMON_LEAGUE} through `dagster dev` (launch to success) / cold CLI of it"),
    "publish_vs_live_copy_ratio": (
        "<=",
        2.0,
        "publish time / COPY of the same rows into empty copies of the live tables, real import_1",
    ),
    "scale_100x_s": (
        "<=",
        round(0.65 * PREVIOUS_100X_S, 1),
        f"100x import wall time, s (0.65 of {PREVIOUS_100X_S:g} s)",
    ),
    "scale_10x_vs_1x": ("<=", 10.0, "time of 10x / time of real import_1"),
    "peak_rss_mb": ("<=", 1024.0, "largest peak RSS of any measured process, MB"),
    "health_checks_100k_users_s": ("<=", 2.0, "health checks over 100k users, s"),
    "sensor_tick_1000_leagues_s": ("<=", 1.0, "landing-sensor tick over 1,000 league folders (steady), s"),
}


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _now() -> float:
    return time.perf_counter()


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KB on Linux


def _rss_mb() -> float:
    """The current RSS (not the peak): how much one league leaves behind."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return _peak_rss_mb()


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _fmt(value, digits: int = 2) -> str:
    """A number as BENCHMARKS.md prints it ("—" when not measured)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
