"""Publish one league's staged rows in ONE transaction, and say what changed (a PublishReport)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import psycopg

from rally_assets.core import import_runs, policy
from rally_assets.core.errors import DatabaseUnavailable, RallyError
from rally_assets.core.file_types import FACT_TABLES, FILE_TYPES
from rally_assets.core.protection.guard import arm_database_guard
from rally_assets.core.publish.context import Step
from rally_assets.core.publish.facts import replace_facts
from rally_assets.core.publish.players import upsert_players
from rally_assets.core.publish.reference import upsert_clubs, upsert_league, upsert_series, upsert_teams
from rally_assets.core.publish.report import LinkCarry, PublishReport, TableChanges
from rally_assets.core.publish.scope import landing_scope
from rally_assets.core.publish.steps import S
from rally_assets.core.schema.profile import AppSchemaProfile, read_profile
from rally_assets.core.staging import clear_run
from rally_assets.core.users.contexts import fix_league_contexts
from rally_assets.core.users.discovery import carry_links
from rally_assets.tooling.faults import checkpoint

StepHook = Callable[[str], None]

FACT_FILE_TYPES = tuple(t for t in FILE_TYPES if t.fact_table)
PUBLISH_LOCK = "hashtext('rally_publish')"  # the advisory lock every publish holds until it commits
PUBLISH_STEPS = ("league", "clubs_series", "teams", "players", *FACT_TABLES, "carry_links", "league_contexts", "record")


def publish_league(
    conn: psycopg.Connection,
    league: str,
    run_id: str,
    *,
    on_step: StepHook | None = None,
    carry_user_links: bool = False,
    rehearse: bool = False,
    reference_only: bool = False,
) -> PublishReport:
    """Publish the rows staged by `run_id` for `league`; return what changed.

    `rehearse`: run the very same transaction and roll it back, returning what it would change
    (the churn breaker and `rally import --dry-run` judge by it). Nothing is committed and the staged
    rows stay; only sequences may have advanced (PostgreSQL never rolls those back). With
    `reference_only` the rehearsal stops after the players (what the churn breaker needs).

    Inside the same transaction, after the data: with `carry_user_links` (the operator's override
    of an id-scheme change) users stranded on deactivated players are linked to the matching new
    ones; then the league contexts of the league's users are repaired by the one rule.
    `on_step(name)` is called before each step (timings, and fault injection in tests).
    """

    def hook(step: str) -> None:
        if not rehearse:  # fault injection aims at the real publish
            checkpoint(f"publish:{step}")
        if on_step:
            on_step(step)

    if reference_only and not rehearse:
        raise ValueError("reference_only is for rehearsals: a publish is all of it or nothing")
    p: dict = {"league": league, "run": run_id, "reference_only": reference_only}
    staged = conn.execute(
        f"SELECT count(*) FROM {S}.stg_players WHERE run_id = %(run)s AND league = %(league)s", p
    ).fetchone()[0]
    if staged == 0:
        raise RallyError(f"nothing is staged for league {league} in run {run_id}: stage it before publishing")
    present = import_runs.files_present(conn, run_id, league)
    report = PublishReport(league=league, run_id=run_id)
    try:
        with conn.transaction() as transaction:
            _publish(conn, p, present, report, hook, carry_user_links)
            if rehearse:
                raise psycopg.Rollback(transaction)
    except psycopg.OperationalError as exc:
        reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        raise DatabaseUnavailable(
            f"lost the database connection while publishing {league} ({reason}); nothing was committed, run the import again"
        ) from exc
    if rehearse:
        report.xid = None  # that transaction never committed
        return report
    checkpoint("publish:after_commit")
    clear_run(conn, run_id)
    return report


def _prepare(conn: psycopg.Connection, p: dict, report: PublishReport) -> None:
    arm_database_guard(conn)
    # Every statement of the data steps is a bulk set operation; row estimates for rows written
    # earlier in this same transaction are stale, and a nested loop over them costs seconds.
    conn.execute("SET LOCAL enable_nestloop = off")
    # With nested loops off the cost estimates grow past jit_above_cost, and compiling each
    # statement costs more than running it (a second per statement on import_2).
    conn.execute("SET LOCAL jit = off")
    # One publish at a time, whatever its league; the next one waits here for the first to commit.
    # Leagues share rows: clubs (UNIQUE name), global series, users in two leagues. Two publishes both
    # adding a club neither can see would collide on its unique key (the second fails when the first
    # commits). Everything before and after the publish (parse, staging, checks) still runs side by side.
    conn.execute(f"SELECT pg_advisory_xact_lock({PUBLISH_LOCK})")
    # The publish's transaction id: a user row it wrote carries it as xmin, however it was stamped.
    report.xid = conn.execute("SELECT txid_current() % 4294967296").fetchone()[0]


def _publish_data(step: Step, present: set[str], report: PublishReport, hook) -> None:
    tables = report.tables
    hook("league")
    step.p["lid"], tables["leagues"] = upsert_league(step)
    hook("clubs_series")
    tables["clubs"] = upsert_clubs(step)
    tables["series"] = upsert_series(step)
    hook("teams")
    tables["teams"] = upsert_teams(step)
    hook("players")
    tables["players"], report.players_moved_team, report.diff_sample, deactivated = upsert_players(step)
    report.players_deactivated_linked = deactivated.linked
    report.players_moved_out, report.players_moved_out_linked = deactivated.moved_out, deactivated.moved_out_linked
    if step.p.get("reference_only"):
        return
    # A fact table is replaced only from a file that was there: a scrape that produced no
    # match_history.json says nothing about the matches, so the published ones stay.
    for file_type in FACT_FILE_TYPES:
        table = file_type.fact_table
        hook(table)
        if file_type.file in present or not file_type.absent_keeps_rows:
            tables[table] = replace_facts(step, table)
        else:
            tables[table] = TableChanges(kept=f"{file_type.file} absent: published rows kept")
    report.adoption = step.adoption


def _publish_user_side(
    conn: psycopg.Connection, profile: AppSchemaProfile, p: dict, report: PublishReport, hook, carry_user_links: bool
) -> None:
    # The user-side steps look up few rows through indexes, where nested loops are the right plan.
    conn.execute("SET LOCAL enable_nestloop = on")
    source = f"run:{p['run']}"
    hook("carry_links")
    if carry_user_links:
        carried = carry_links(conn, p["lid"], source=source)
        report.links = LinkCarry(
            **{k: carried[k] for k in ("links_carried", "links_unmatched", "users_stranded", "users_carried")},
            unmatched=carried["unmatched"][: policy.CARRIED_UNMATCHED_LISTED],
        )
        report.users_touched += [
            {
                "user": f"user {c['user_id']}",
                "change": f"linked to {c['tenniscores_player_id']} (was {c['old_player_id']})",
                "reason": c["reason"],
            }
            for c in carried["carried"]
        ]
    hook("league_contexts")
    fixes = fix_league_contexts(conn, league_id=p["lid"], source=source, profile=profile)
    report.contexts_fixed_by_reason = dict(Counter(f["reason"] for f in fixes))
    report.users_touched += [
        {
            "user": f["email"],
            "change": f"league context {f['old_league'] or f['old_context'] or 'none'} -> {f['new_league']}",
            "reason": f["reason"],
        }
        for f in fixes
    ]
    del report.users_touched[policy.USERS_TOUCHED_LISTED :]


def _publish(
    conn: psycopg.Connection, p: dict, present: set[str], report: PublishReport, hook, carry_user_links
) -> None:
    _prepare(conn, p, report)
    # What the landing covers, judged under the publish lock: a partial scrape writes only its series.
    report.scope = landing_scope(conn, p["league"], p["run"])
    p["covered"] = report.scope.covered_param
    # Read once for the whole transaction: an app migration committed meanwhile either leaves the
    # statements valid (a column added with a default, say) or fails one, and the publish rolls back whole.
    profile = read_profile(conn)
    _publish_data(Step(conn, profile, p), present, report, hook)
    if p["reference_only"]:
        return
    _publish_user_side(conn, profile, p, report, hook, carry_user_links)
    hook("record")
    import_runs.record_published(conn, p["run"], p["league"], report.as_json())
