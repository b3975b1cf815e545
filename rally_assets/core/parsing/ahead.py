"""Leagues parsed ahead, in other processes, while this one imports the first of them: `rally import`
of several leagues parses them on every core instead of one after the other.

`parse_ahead` starts the parses; `parsed` returns a league's frames, from its parse ahead when there
is one, else by parsing it here. A parse ahead that failed is simply parsed again here, so its
error is exactly the one a direct parse raises (file, row and field)."""

from __future__ import annotations

import contextlib
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
        _pending[str(folder.resolve())] = pool.submit(_parse_or_none, folder, landing_root)
    pool.shutdown(wait=False)  # the workers exit once their parses are done
    return len(folders)


def _parse_or_none(folder: Path, landing_root: Path | None) -> ParsedLeague | None:
    """In a worker: the parse, or None when it fails. The error is never sent back: ours do not all
    survive pickling, and one that cannot be unpickled breaks the pool (the other workers then block
    on their pipes and this process hangs at exit). `parsed` parses a failed league again, here."""
    try:
        return parse_league(folder, landing_root=landing_root)
    except Exception:
        return None


def parsed(folder: Path, landing_root: Path | None = None) -> ParsedLeague:
    """The league's frames: its parse ahead's result if one was started, else a parse here."""
    future = _pending.pop(str(folder.resolve()), None)
    if future is not None:
        with contextlib.suppress(Exception):
            if (result := future.result()) is not None:
                return result
    return parse_league(folder, landing_root=landing_root)


def forget() -> None:
    """Drop parses ahead that no import took (a league that was not run). One already running is
    waited for and its result dropped: a worker whose result is never read blocks on its pipe, and
    this process then hangs at exit joining it."""
    for future in _pending.values():
        if not future.cancel():
            with contextlib.suppress(Exception):
                future.result()
    _pending.clear()
