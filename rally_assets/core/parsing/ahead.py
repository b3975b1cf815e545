"""Leagues parsed ahead, in other processes, while this one imports the ones before them: `rally import`
of several leagues parses them on every core instead of one after the other.

`parse_ahead` queues the folders in import order; `parsed` returns a league's frames, from its parse
ahead when there is one, else by parsing it here. At most one league per core is parsed ahead at a
time (each one taken starts the next), so a landing of 500 leagues holds the frames of a few, not of
all 500. A parse ahead that failed is simply parsed again here, so its error is exactly the one a
direct parse raises (file, row and field)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from rally_assets.core.parsing.league import ParsedLeague, parse_league

_pending: dict[str, Future] = {}  # resolved folder -> its parse ahead, started
_queued: deque[tuple[Path, Path | None]] = deque()  # (folder, landing root) to start as workers free up
_pool: ProcessPoolExecutor | None = None
_workers = 0  # the pool's size: how many leagues are parsed ahead at once


def _key(folder: Path) -> str:
    return str(folder.resolve())


def parse_ahead(folders: list[Path], landing_root: Path | None = None) -> int:
    """Queue `folders` (in the order they will be imported) to be parsed in worker processes, one per
    core; the number queued (0 on one core or for a single folder: nothing to overlap)."""
    global _pool, _workers
    queued = {_key(f) for f, _ in _queued}
    folders = [f for f in folders if _key(f) not in _pending and _key(f) not in queued]
    workers = min(len(folders), os.cpu_count() or 1)
    if workers < 2:
        return 0
    if _pool is None:
        # fork: the workers start with everything this process has imported (no second start-up);
        # all of them now, before this process loads anything else (Dagster's threads included)
        _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
        _workers = workers
    _queued.extend((folder, landing_root) for folder in folders)
    _top_up()
    return len(folders)


def _top_up() -> None:
    """Start queued parses until every worker has one (their frames wait here until imported)."""
    while _pool is not None and _queued and len(_pending) < _workers:
        folder, landing_root = _queued.popleft()
        _pending[_key(folder)] = _pool.submit(_parse_or_none, folder, landing_root)
    if _pool is not None and not _queued and not _pending:
        _shut_down()


def _shut_down() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False)  # the workers exit once their parses are done
        _pool = None


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
    key = _key(folder)
    for entry in [e for e in _queued if _key(e[0]) == key]:
        _queued.remove(entry)  # queued, not started (taken out of order): parsed here instead
    future = _pending.pop(key, None)
    _top_up()  # a worker is free (or soon): start the next league
    if future is not None:
        with contextlib.suppress(Exception):
            if (result := future.result()) is not None:
                return result
    return parse_league(folder, landing_root=landing_root)


def forget() -> None:
    """Drop parses ahead that no import took (a league that was not run). One already running is
    waited for and its result dropped: a worker whose result is never read blocks on its pipe, and
    this process then hangs at exit joining it."""
    _queued.clear()
    for future in _pending.values():
        if not future.cancel():
            with contextlib.suppress(Exception):
                future.result()
    _pending.clear()
    _shut_down()
