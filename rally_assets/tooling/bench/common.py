"""What every part of the benchmark shares: the paths, the stages, the targets, the clock and the RSS."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "rally_real"
STAGES = ("parse", "stage", "snapshot", "publish", "discovery", "checks")
OLD_ETL_MEDIAN_S = 22.3  # the old importer on import_1, same machine kind (issue)
OLD_ETL_STATEMENTS = 68_668
REAL_USERS = 1_000  # users added between import_1 and import_2
HEALTH_USERS = 100_000
SENSOR_FOLDERS = 1_000
FULL_MULTIPLIERS = (1, 10, 100)
QUICK_MULTIPLIERS = (1, 10)
# key -> (comparison, target, what it is)
TARGETS = {
    "real_import_cold_cli_s": ("<=", 5.0, "cold `rally import import_1` (3 leagues, every check), s"),
    "real_import_s": ("<=", 5.0, "import_1 through the Dagster job in-process (every check), s"),
    "publish_vs_copy_ratio": ("<=", 3.0, "publish time / COPY floor, real import_1"),
    "speedup_vs_rowwise": (">=", 10.0, "row-by-row INSERT time / (stage + publish), real import_1"),
    "peak_rss_mb": ("<=", 1024.0, "largest peak RSS of any measured process, MB"),
    "scale_10x_vs_1x": ("<=", 10.0, "time of 10x / time of real import_1"),
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
