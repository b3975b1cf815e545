"""Leagues parsed ahead, in other processes, while this one imports the first of them: `rally import`
of several leagues parses them on every core instead of one after the other.

`parse_ahead` starts the parses; `parsed` returns a league's frames, from its parse ahead when there
is one, else by parsing it here. A parse ahead that failed is simply parsed again here, so its
error is exactly the one a direct parse raises (file, row and field)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from rally_assets.core.parsing.league import ParsedLeague, parse_league

_pending: dict[str, Future] = {}  # resolved folder -> its parse ahead


def parse_ahead(folders: list[Path], landing_root: Path | None = None) -> int:
    """Start parsing `folders` in worker processes (one per core, at most one per folder); the number
    started (0 on one core or for a single folder: nothing to overlap)."""
    folders = [f for f in folders if str(f.resolve()) not in _pending]  # already parsing ahead
    workers = min(len(folders), os.cpu_count() or 1)
    if workers < 2:
        return 0
    # fork: the workers start with everything this process has imported (no second start-up)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    for folder in folders:
        _pending[str(folder.resolve())] = pool.submit(parse_league, folder, landing_root=landing_root)
    pool.shutdown(wait=False)  # the workers exit once their parses are done
    return len(folders)


def parsed(folder: Path, landing_root: Path | None = None) -> ParsedLeague:
    """The league's frames: its parse ahead's result if one was started, else a parse here."""
    future = _pending.pop(str(folder.resolve()), None)
    if future is not None:
        try:
            return future.result()
        except Exception:
            pass
    return parse_league(folder, landing_root=landing_root)


def forget() -> None:
    """Drop parses ahead that no import took (a league that was not run)."""
    for future in _pending.values():
        future.cancel()
    _pending.clear()
