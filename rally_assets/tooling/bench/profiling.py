"""Where a cold `rally import` spends its time: a cProfile dump summed into a few buckets.

The buckets overlap where the code does (an import inside a run counts in both), and cProfile
itself slows the process down: they explain a wall time, they are not one.
"""

from __future__ import annotations

import pstats
from pathlib import Path

CORE = "/rally_assets/core/"


def _short(key: tuple) -> str:
    file, line, name = key
    if file == "~":
        return name
    parts = Path(file).parts
    where = "/".join(parts[parts.index("site-packages") + 1 :] if "site-packages" in parts else parts[-3:])
    return f"{where}:{line}({name})"


def _cumulative(stats: dict, match) -> float:
    """Cumulative time of the functions matched (cProfile counts a recursive call once)."""
    return sum(ct for key, (_cc, _nc, _tt, ct, _callers) in stats.items() if match(key))


def _domain_s(stats: dict) -> float:
    """Time in Rally's domain code (rally_assets/core), entered from outside it (Dagster's ops, the CLI)."""
    total = 0.0
    for key, (_cc, _nc, _tt, _ct, callers) in stats.items():
        if CORE in key[0] and key[2] != "<module>":  # a module's own body runs when it is imported
            total += sum(edge[3] for caller, edge in callers.items() if CORE not in caller[0])
    return total


def summarize_profile(path: Path, top: int = 8) -> dict:
    """The profiled wall time, and in it: Python imports, Dagster's `execute_in_process` (the runs),
    Rally's domain code, SQLite (Dagster's local storage), and the functions with the most own time."""
    st = pstats.Stats(str(path))
    stats = st.stats  # (file, line, name) -> (calls, primitive calls, own time, cumulative, callers)
    imports = _cumulative(stats, lambda k: k[2] == "_find_and_load" and "importlib._bootstrap" in k[0])
    runs = _cumulative(stats, lambda k: k[2] == "execute_in_process" and "dagster" in k[0])
    sqlite = sum(tt for key, (_cc, _nc, tt, _ct, _c) in stats.items() if key[0] == "~" and "sqlite3" in key[2])
    domain = _domain_s(stats)
    own = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    return {
        "profiled_wall_s": round(st.total_tt, 3),
        "imports_s": round(imports, 3),
        "dagster_runs_s": round(runs, 3),
        "domain_s": round(domain, 3),
        "sqlite_s": round(sqlite, 3),
        "top_own_time": [[_short(key), round(v[2], 3), v[1]] for key, v in own],
    }
