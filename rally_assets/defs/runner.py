"""Run the Dagster import jobs in this process: `rally import` and `rally demo` run import_landing_job
(every league, then the post-import, in one run); `import_leagues` runs import_league_job, one run per
league, as the landing sensor and the UI do."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import dagster as dg

from rally_assets.core import db, import_runs, pipeline
from rally_assets.core.constants import LEAGUE_PARTITIONS
from rally_assets.core.errors import RallyError
from rally_assets.core.parsing import ahead
from rally_assets.core.pipeline import league_folders
from rally_assets.core.settings import dagster_home
from rally_assets.defs.landing_run import LandingOutcome, LeagueOutcome
from rally_assets.defs.resources import ImportPolicy, LandingZone, RallyDatabase

IMPORT_JOB = "import_league_job"
POST_IMPORT_JOB = "post_import_job"


def _subclasses(cls: type) -> set[str]:
    return {cls.__name__} | {name for sub in cls.__subclasses__() for name in _subclasses(sub)}


_RALLY_ERRORS = _subclasses(RallyError)  # the project's own errors, matched by class name


def dagster_instance() -> dg.DagsterInstance:
    """The persistent instance `rally ui` shows: DAGSTER_HOME, else RALLY_HOME/dagster."""
    os.environ["DAGSTER_HOME"] = str(dagster_home())
    _sqlite_without_fsync()
    return dg.DagsterInstance.get()


def prepare_dagster_home() -> Path:
    """The Dagster home `rally import` records its runs in, with its storage created (`rally init-db`
    does it, so that the first import finds its run history ready; no saving was measured by it)."""
    instance = dagster_instance()
    instance.get_runs(limit=1)  # the run storage is created on first use
    instance.get_latest_materialization_event(dg.AssetKey("players"))  # and the event log's
    return dagster_home()


def _sqlite_without_fsync() -> None:
    """Dagster's SQLite storage (the default instance) without an fsync per event, in this process.

    Dagster opens a SQLite connection per storage call and every close checkpoints the WAL with an
    fsync: a profiled cold `rally import` of three leagues spent 0.59 s in 818 such closes, and ran
    ~0.25 s faster without the fsyncs (4.41 -> 3.94-4.35 s over three runs). With
    synchronous=OFF a killed process loses nothing (SQLite's own guarantee); only an OS crash or a
    power cut in the second after a run could damage the local run history. The Rally data is in
    PostgreSQL, untouched by this, and a deployment keeps its history there (deploy/dagster.yaml).
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _no_fsync):
        event.listen(Engine, "connect", _no_fsync)


def _no_fsync(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def refused_by(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation | None:
    """The gate check that refused the league's publish (the first in gate order: it is the diagnosis),
    or a blocking check that failed after it; None when nothing stopped the league."""
    order = {name: i for i, name in enumerate(pipeline.BLOCKING_VERDICTS)}
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed and (e.check_name in order or e.blocking)]
    return min(failed, key=lambda e: order.get(e.check_name, len(order)), default=None)


def _failure_reason(result: dg.ExecuteInProcessResult) -> str:
    """The operator's one line: the check that stopped the league and why, else which step failed
    and the innermost error, without the traceback."""
    refusal = refused_by(result)
    if refusal is not None:
        return f"blocked by check {refusal.check_name}: {refusal.description}"
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            chain, error = [], event.step_failure_data.error
            while error is not None:
                chain.append(error)
                error = error.cause
            # Prefer our own error (it names the file, row and field) over what caused it.
            ours = [e for e in chain if e.cls_name in _RALLY_ERRORS]
            chosen = ours[0] if ours else chain[-1]
            message = chosen.message.strip().splitlines()[0]
            prefix, sep, rest = message.partition(": ")
            if sep and prefix.rsplit(".", 1)[-1] == chosen.cls_name:
                message = rest  # Dagster writes "module.ClassName: message"
            return f"{event.step_key}: {message}"
    return "the run failed without a failed step (see the Dagster UI)"


def run_config(landing: Path | None = None, policy: dict | None = None, op: str = "import_league", **op_config) -> dict:
    """Run config for the CLI's runs: quiet console, the landing folder (and `op_config`) for `op`, the policy."""
    config: dict = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # events stay in Dagster
    if landing is not None:
        config["ops"] = {op: {"config": {"landing_dir": str(landing), **op_config}}}
    if policy:
        config["resources"] = {"import_policy": {"config": policy}}
    return config


def run_post_import(instance: dg.DagsterInstance | None = None, policy: dict | None = None) -> LeagueOutcome:
    """Contexts, discovery and the health checks, once after the leagues."""
    from rally_assets.definitions import defs

    instance = instance or dagster_instance()
    result = defs.resolve_job_def(POST_IMPORT_JOB).execute_in_process(
        run_config=run_config(policy=policy), instance=instance, raise_on_error=False, tags={"rally/source": "cli"}
    )
    outcome = LeagueOutcome(
        league="(all leagues)", success=result.success, run_id=result.run_id, dagster_run_id=result.run_id
    )
    outcome.checks = {e.check_name: (e.passed, e.description) for e in result.get_asset_check_evaluations()}
    if not result.success:
        outcome.error = _failure_reason(result)
    else:
        outcome.fail_on_checks()
    return outcome


def import_landing(
    landing: Path,
    leagues: list[str] | None = None,
    *,
    instance: dg.DagsterInstance | None = None,
    policy: dict | None = None,
) -> LandingOutcome:
    """`rally import`: every league folder under `landing` (or only `leagues`) and then the post-import,
    in ONE run of import_landing_job in this process; a failing league never stops the others."""
    from rally_assets.defs.landing_run import hand_over, import_landing_job, taken

    landing = Path(landing).expanduser().resolve()
    found, unusable = league_folders(landing, leagues)
    if not found and not unusable:
        raise RallyError(f"no league folders (with players.json or another landing file) under {landing}")
    instance = instance or dagster_instance()
    config = run_config(landing, policy, op="import_landing", leagues=leagues or [])
    ahead.parse_ahead(list(found.values()), landing_root=landing)  # every core parses while leagues import
    run_id = str(uuid.uuid4())  # a Dagster run id, known before the run starts
    hand_over(run_id)
    try:
        result = import_landing_job.execute_in_process(
            run_config=config,
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
            tags={"rally/source": "cli", "rally/landing": str(landing)},
            resources={"database": RallyDatabase(), "landing": LandingZone(), "import_policy": ImportPolicy()},
        )
    finally:
        ahead.forget()
        outcome = taken(run_id)
    if outcome is None:  # the step failed before it had an outcome to give
        raise RallyError(f"the import run {run_id[:8]} failed: {_failure_reason(result)}")
    return outcome


def import_leagues(
    landing: Path,
    leagues: list[str] | None = None,
    *,
    instance: dg.DagsterInstance | None = None,
    policy: dict | None = None,
) -> list[LeagueOutcome]:
    """Import each league folder under `landing` (or only `leagues`); a failing league never stops the others.

    `policy` overrides ImportPolicy fields for these runs (e.g. {"allow_churn": True}).
    """
    from rally_assets.definitions import defs  # late: the CLI starts faster without Dagster loaded

    landing = Path(landing).expanduser().resolve()
    found, unusable = league_folders(landing, leagues)
    outcomes = [LeagueOutcome(league=name, success=False, error=why) for name, why in unusable]
    instance = instance or dagster_instance()
    job = defs.resolve_job_def(IMPORT_JOB)
    known = set(instance.get_dynamic_partitions(LEAGUE_PARTITIONS))
    missing_partitions = [code for code in found if code not in known]
    if missing_partitions:
        instance.add_dynamic_partitions(LEAGUE_PARTITIONS, missing_partitions)
    ahead.parse_ahead(list(found.values()), landing_root=landing)  # every core parses while leagues import
    try:
        for code in found:
            outcomes.append(_import_one(job, instance, code, landing, policy))
    finally:
        ahead.forget()
    if not outcomes:
        raise RallyError(f"no league folders (with players.json or another landing file) under {landing}")
    return outcomes


def _import_one(job: dg.JobDefinition, instance: dg.DagsterInstance, code: str, landing: Path, policy) -> LeagueOutcome:
    """One league's run of the import job, in this process."""
    result = job.execute_in_process(
        run_config=run_config(landing, policy),
        instance=instance,
        partition_key=code,
        raise_on_error=False,
        tags={"rally/source": "cli", "rally/landing": str(landing)},
    )
    # A refused league's run succeeds (its gate check failed, nothing was published): not a success here.
    success = result.success and refused_by(result) is None
    outcome = LeagueOutcome(league=code, success=success, run_id=result.run_id, dagster_run_id=result.run_id)
    if outcome.success:
        with db.connection() as conn:
            outcome.publish = import_runs.publish_report(conn, result.run_id, code)
    else:
        outcome.error = _failure_reason(result)
    outcome.checks = {e.check_name: (e.passed, e.description) for e in result.get_asset_check_evaluations()}
    return outcome
