"""`import_landing`: every league of a landing through what the Dagster jobs run, timed stage by stage."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from rally_assets.core.file_types import STAGED_FRAMES  # the staged tables the floor counts and copies
from rally_assets.tooling.bench.baselines import _Baselines
from rally_assets.tooling.bench.common import STAGES, _now, _rss_mb

if TYPE_CHECKING:
    import psycopg

    from rally_assets.core.policy import ImportLimits


def _domain() -> SimpleNamespace:
    """What the jobs run, imported when an import starts (not when the bench is imported)."""
    from rally_assets.core import db, pipeline, policy
    from rally_assets.core.parsing import ahead
    from rally_assets.core.parsing.reading import find_leagues, league_code
    from rally_assets.core.protection.verdicts import churn_tripped

    return SimpleNamespace(
        db=db,
        ahead=ahead,
        pipeline=pipeline,
        policy=policy,
        find_leagues=find_leagues,
        league_code=league_code,
        churn_tripped=churn_tripped,
    )


@dataclass
class _Run:
    """One import_landing call: what it runs with, and what it adds up over the leagues."""

    d: SimpleNamespace
    limits: ImportLimits
    label: str
    landing: Path
    floor: bool
    baselines: _Baselines | None
    parse_ahead: bool = False
    conn: psycopg.Connection | None = None  # set once the import's connection is open
    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    steps: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGED_FRAMES.values(), 0))
    blocked: list[str] = field(default_factory=list)
    tripped: list[str] = field(default_factory=list)
    rss_after: list[float] = field(default_factory=list)
    last_span: dict[str, tuple[float, float]] = field(default_factory=dict)  # stage -> its last (start, end)
    leagues: int = 0
    aside_s: float = 0.0  # time spent on the COPY floor beside the import (taken out of its wall time)
    checks: dict[str, float] = field(default_factory=dict)  # check name -> seconds, summed over the leagues


def import_landing(
    url: str,
    landing: Path,
    label: str,
    *,
    allow_churn: bool = False,
    floor: bool = True,
    post_import: bool = True,
    statement_timeout_s: float | None = None,
    parse_ahead: bool = False,
) -> dict:
    """Every league of `landing` through what the Dagster jobs run, timed stage by stage.

    Per league (import_league_job): parse, stage, the two blocking pre-publish checks, snapshot,
    publish (with its steps), the three post-publish checks. Then once (post_import_job): league
    contexts and discovery ("discovery"), the user-data health asset and its two checks ("checks").
    `wall_s` is the whole import's wall time, the COPY floor beside it (`floor`) taken out.
    `parse_ahead`: the leagues are parsed on the other cores while the ones before them import, as
    `rally import` does (the "parse" stage is then the time the import waited for a league's parse).
    """
    d = _domain()
    limits = d.policy.ImportLimits(allow_churn=allow_churn)
    baselines = _Baselines(url) if floor else None
    run = _Run(d, limits, label, landing, floor, baselines, parse_ahead)
    t_all = _now()
    folders = d.find_leagues(landing)
    if parse_ahead:
        d.ahead.parse_ahead(folders, landing_root=landing)
    with d.db.connection(url) as conn, _timed_verdicts(d.pipeline, run.checks):
        run.conn = conn
        if statement_timeout_s:
            conn.execute(f"SET statement_timeout = '{int(statement_timeout_s * 1000)}ms'")
        try:
            for folder in folders:
                _import_league(run, folder)
        finally:
            d.ahead.forget()
        if post_import:
            _post_import(run)
    out = _result(run, _now() - t_all)
    if baselines is not None:
        out.update(baselines.finish())
    return out


@contextlib.contextmanager
def _timed_verdicts(pipeline, seconds: dict[str, float]):
    """Each verdict the pipeline runs, timed by name for the duration of one import (the `checks`
    stage, split by check); the pipeline's own tables of verdicts are restored afterwards."""
    tables = (pipeline.BLOCKING_VERDICTS, pipeline.PUBLISHED_VERDICTS, pipeline.HEALTH_VERDICTS)
    saved = [dict(table) for table in tables]

    def timed(name, verdict):
        def run(*args, **kwargs):
            start = _now()
            try:
                return verdict(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + _now() - start

        return run

    for table in tables:
        for name, verdict in list(table.items()):
            table[name] = timed(name, verdict)
    try:
        yield
    finally:
        for table, original in zip(tables, saved, strict=True):
            table.clear()
            table.update(original)


def timer(run: _Run):
    """The pipeline's stage timer: each stage's seconds added to run.stages."""

    @contextlib.contextmanager
    def timed(stage: str):
        start = _now()
        try:
            yield
        finally:
            end = _now()
            run.stages[stage] += end - start
            run.last_span[stage] = (start, end)

    return timed


def _import_league(run: _Run, folder: Path) -> None:
    """One league through the pipeline import_league_job runs, timed stage by stage and step by step."""
    league = run.d.league_code(folder)
    run_id = f"bench-{run.label}-{league}-{uuid.uuid4().hex[:8]}"
    marks: list[tuple[str, float]] = []
    outcome = run.d.pipeline.import_league(
        run.conn,
        folder,
        run_id,
        landing_root=run.landing,
        limits=run.limits,
        timer=timer(run),
        on_parsed=lambda parsed: _parsed(run, parsed, run_id),
        on_step=lambda step: marks.append((step, _now())),
        parse=run.d.ahead.parsed if run.parse_ahead else run.d.pipeline.parse_league,
    )
    if run.d.churn_tripped(outcome.verdicts["churn_breaker"].measures, run.limits):
        run.tripped.append(league)
    if outcome.blocked_by:
        run.blocked.append(league)
        return
    _add_steps(run, marks)
    run.leagues += 1
    run.rss_after.append(_rss_mb())


def _parsed(run: _Run, parsed, run_id: str) -> None:
    """The rows the landing holds, and the COPY floor of the same rows (outside the timed stages)."""
    for attr in STAGED_FRAMES.values():
        run.rows[attr] += len(getattr(parsed, attr))
    if run.floor:
        t = _now()
        run.baselines.copy_floor(run.baselines.rows(parsed, run_id))
        run.aside_s += _now() - t


def _add_steps(run: _Run, marks: list[tuple[str, float]]) -> None:
    """Publish step durations, from the marks `on_step` left within the publish's span."""
    start, end = run.last_span["publish"]
    bounds = [("begin", start), *marks, ("end", end)]
    for (step, start), (_next, stop) in itertools.pairwise(bounds):
        run.steps[step] = run.steps.get(step, 0.0) + stop - start


def _post_import(run: _Run) -> None:
    """post_import_job: league contexts, association discovery, the health checks."""
    run.d.pipeline.post_import(run.conn, source=f"run:bench-{run.label}", timer=timer(run))


def _result(run: _Run, wall: float) -> dict:
    total = sum(run.stages.values())
    n_rows = sum(run.rows.values())
    rss_after = run.rss_after
    return {
        "label": run.label,
        "landing": str(run.landing),
        "leagues": run.leagues,
        "blocked": run.blocked,
        "churn_tripped": run.tripped,
        "rows": run.rows,
        "rows_total": n_rows,
        "stages_s": {k: round(v, 3) for k, v in run.stages.items()},
        "total_s": round(total, 3),
        "wall_s": round(wall - run.aside_s, 3),
        "wall_with_floor_s": round(wall, 3),
        "rows_per_s": round(n_rows / total) if total else None,
        "publish_steps_s": {k: round(v, 3) for k, v in run.steps.items()},
        "checks_s": {k: round(v, 3) for k, v in run.checks.items()},  # the `checks` stage by check
        "rss_after_first_league_mb": rss_after[0] if rss_after else None,
        "rss_after_last_league_mb": rss_after[-1] if rss_after else None,
        "rss_max_between_leagues_mb": max(rss_after) if rss_after else None,
    }


def import_side_by_side(url: str, landing: Path, workers: int = 2) -> dict:
    """The same landing with `workers` leagues imported at once, each on a connection of its own (threads;
    the leagues parsed ahead as `rally import` parses them), then the post-import once: its wall time.

    Information for the scale targets: whether a second league in flight uses the second core. Publishes
    take turns on one lock (leagues share clubs, series and users), so only the rest overlaps."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    d = _domain()
    lock = threading.Lock()  # the parse-ahead queue is one thread's
    local = threading.local()
    connections: list = []

    def parsed(folder: Path, landing_root: Path | None = None):
        with lock:
            return d.ahead.parsed(folder, landing_root=landing_root)

    def one(folder: Path):
        if not hasattr(local, "conn"):
            local.conn = d.db.connect(url)
            connections.append(local.conn)
        run_id = f"bench-side-{uuid.uuid4().hex[:8]}"
        return d.pipeline.import_league(local.conn, folder, run_id, landing_root=landing, parse=parsed, url=url)

    start = _now()
    folders = d.find_leagues(landing)
    d.ahead.parse_ahead(folders, landing_root=landing)
    try:
        with ThreadPoolExecutor(workers) as pool:
            outcomes = list(pool.map(one, folders))
    finally:
        d.ahead.forget()
        for conn in connections:
            conn.close()
    with d.db.connection(url) as conn:
        d.pipeline.post_import(conn, source="run:bench-side")
    return {
        "workers": workers,
        "leagues": sum(o.publish is not None for o in outcomes),
        "wall_s": round(_now() - start, 3),
    }
