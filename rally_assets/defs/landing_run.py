"""`rally import`'s one Dagster run: every league of a landing, each published in its own transaction and
reported on its own partition, then the post-import (league contexts, discovery, the health checks) once.

The per-league job is a run per league and the post-import job one more; Dagster's bookkeeping of four
runs (their plans, steps and ~70 events each) cost a cold `rally import` more than the import itself.
This step drives the same stages (core.pipeline.league_stages) and logs the same events the assets and
checks yield (league_events, after_publish_event, the user-data metadata and health checks), so the UI
shows each league's tables and checks exactly as after a per-league run, from one run.
"""

import traceback
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from pydantic import Field

from rally_assets.core.constants import LEAGUE_PARTITIONS
from rally_assets.core.errors import RallyError
from rally_assets.core.parsing.ahead import parsed as parsed_league
from rally_assets.core.pipeline import HEALTH_VERDICTS, league_folders, league_stages, refusal, verify
from rally_assets.core.publish.report import PublishReport
from rally_assets.defs.events import Event
from rally_assets.defs.league_import.assets import league_events
from rally_assets.defs.league_import.checks import BLOCKING_AFTER_PUBLISH, after_publish_run_events
from rally_assets.defs.resources import ImportPolicy, LandingZone, RallyDatabase
from rally_assets.defs.user_data.assets import association_discovery, contexts_metadata, discovery_metadata
from rally_assets.defs.user_data.assets import league_contexts as league_contexts_asset
from rally_assets.defs.user_data.checks import health_check_event


@dataclass
class LeagueOutcome:
    league: str
    success: bool
    run_id: str | None = None  # the league's import run (rally_etl.import_runs, staging, snapshot)
    error: str | None = None
    publish: PublishReport | None = None  # what the publish changed
    checks: dict = field(default_factory=dict)  # check name -> (passed, description)
    dagster_run_id: str | None = None  # the Dagster run that imported it

    def fail_on_checks(self) -> None:
        """A run that succeeded but whose checks did not all pass is not a success: its error lists them."""
        if failed := [f"{name}: {why}" for name, (ok, why) in self.checks.items() if not ok]:
            self.success, self.error = False, "; ".join(failed)


@dataclass
class LandingOutcome:
    leagues: list[LeagueOutcome]
    post_import: LeagueOutcome | None  # None when no league was published


# Dagster run id -> what the run did, for the caller in this process that asked for it (`hand_over`).
_handed_over: dict[str, LandingOutcome | None] = {}


def hand_over(run_id: str) -> None:
    """Ask run `run_id`, about to run in this process, to leave its outcome for `taken`."""
    _handed_over[run_id] = None


def taken(run_id: str) -> LandingOutcome | None:
    return _handed_over.pop(run_id, None)


class LandingConfig(dg.Config):
    landing_dir: str = Field(default="", description="Folder holding <LEAGUE>/ folders; empty = the landing zone")
    leagues: list[str] = Field(default_factory=list, description="Only these leagues (any case); empty = every one")


@dg.op(
    name="import_landing",
    description="Every league of the landing (parse, stage, gate checks, snapshot, publish, after-publish "
    "checks: each league on its own partition and in its own transaction), then league contexts, discovery "
    "and the health checks once.",
)
def import_landing(
    context: dg.OpExecutionContext,
    config: LandingConfig,
    landing: LandingZone,
    database: RallyDatabase,
    import_policy: ImportPolicy,
) -> None:
    root = Path(config.landing_dir).expanduser().resolve() if config.landing_dir else landing.root()
    found, unusable = league_folders(root, config.leagues or None)
    if not found and not unusable:
        raise RallyError(f"no league folders (with players.json or another landing file) under {root}")
    outcomes = [LeagueOutcome(league=name, success=False, error=why) for name, why in unusable]
    for name, why in unusable:
        context.log.error(f"{name}: {why}")
    known = set(context.instance.get_dynamic_partitions(LEAGUE_PARTITIONS))
    if missing := [code for code in found if code not in known]:
        context.instance.add_dynamic_partitions(LEAGUE_PARTITIONS, missing)
    after_publish: dict[str, dict] = {}  # league -> its after-publish verdicts, logged once for the run
    for code, folder in found.items():
        outcomes.append(_import_league(context, database, import_policy, code, folder, root, after_publish))
    _log(context, after_publish_run_events(after_publish))
    post = _post_import(context, database, import_policy) if any(o.success for o in outcomes) else None
    if context.run_id in _handed_over:
        _handed_over[context.run_id] = LandingOutcome(outcomes, post)
    broken = [o for o in outcomes if not o.success and not (o.error or "").startswith("blocked by check")]
    if broken:  # a refused league is a failed check, not a failed run; a league that broke fails the run
        raise dg.Failure(
            description="; ".join(f"{o.league}: {o.error}" for o in broken),
            metadata={"leagues_failed": len(broken), "leagues_published": sum(o.success for o in outcomes)},
        )


def _log(context: dg.OpExecutionContext, events: list[Event], outcome: LeagueOutcome | None = None) -> None:
    for event in events:
        context.log_event(event.as_logged())
        if event.check is not None and outcome is not None:
            outcome.checks[event.check] = (event.passed, event.description)


def _import_league(
    context: dg.OpExecutionContext,
    database: RallyDatabase,
    import_policy: ImportPolicy,
    league: str,
    folder: Path,
    root: Path,
    after_publish: dict[str, dict],
) -> LeagueOutcome:
    """One league, as the import_league asset and the after-publish checks would do it in its own run;
    whatever goes wrong stays with this league (the others go on)."""
    run_id = f"{context.run_id}:{league}"
    outcome = LeagueOutcome(league=league, success=False, run_id=run_id, dagster_run_id=context.run_id)
    try:
        parsed = parsed_league(folder, landing_root=root)  # parsed ahead by `rally import`
        with database.connect() as conn:
            stages = league_stages(
                conn,
                parsed,
                run_id,
                limits=import_policy.limits(),
                snapshot_keep=import_policy.snapshot_keep,
                url=database.resolved_url(),
            )
            for stage, result in stages:
                _log(context, league_events(conn, league, stage, result, parsed), outcome)
                parsed = None  # staged (the first stage): the frames are no longer needed
                if stage == "judged" and (name := refusal(result)):
                    outcome.error = f"blocked by check {name}: {result[name].description}"
                    context.log.warning(f"{league}: {outcome.error}")
                elif stage == "published":
                    outcome.publish = result
            if outcome.publish is not None:
                verdicts = after_publish[league] = verify(conn, league, run_id)
                outcome.checks.update({name: (v.passed, v.description) for name, v in verdicts.items()})
                if failed := [n for n in BLOCKING_AFTER_PUBLISH if not verdicts[n].passed]:
                    outcome.error = f"blocked by check {failed[0]}: {verdicts[failed[0]].description}"
    except RallyError as exc:  # ours: it names the file, row and field, or what the database said
        outcome.error = str(exc).strip().splitlines()[0]
        context.log.error(f"{league}: {outcome.error}")
    except Exception as exc:
        outcome.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        context.log.error(f"{league}: {traceback.format_exc()}")
    outcome.success = outcome.error is None
    return outcome


def _post_import(context: dg.OpExecutionContext, database: RallyDatabase, import_policy: ImportPolicy):
    """What post_import_job does, once for every league: contexts, discovery, the health checks."""
    outcome = LeagueOutcome(league="(all leagues)", success=True, dagster_run_id=context.run_id)
    source = f"run:{context.run_id}"
    with database.connect() as conn:
        metadata = contexts_metadata(conn, source)
        _log(context, [Event(league_contexts_asset.key, metadata)])
        metadata = discovery_metadata(conn, import_policy.discovery_limit, source, context.log)
        _log(context, [Event(association_discovery.key, metadata)])
        _log(context, [health_check_event(conn, name) for name in HEALTH_VERDICTS], outcome)
    outcome.fail_on_checks()
    return outcome


POST_IMPORT_IN_RUN = ("rally/post_import", "in_run")  # the post-import sensor leaves these runs alone


@dg.job(
    executor_def=dg.in_process_executor,
    tags=dict([POST_IMPORT_IN_RUN]),
    description="Every league of a landing in ONE run, as `rally import` runs it: each league published in "
    "its own transaction and reported on its own partition (tables, gate and after-publish checks), then "
    "league contexts, discovery and the health checks.",
)
def import_landing_job():
    import_landing()
