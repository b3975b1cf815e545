"""What `rally` prints: import outcomes and dry runs per table, the post-import checks, init-db's
plan, repairs' links and the user-data anomalies. One line per fact, for an operator."""

from __future__ import annotations

import sys

from rally_assets.core.errors import InputError
from rally_assets.core.publish.report import TABLE_LEGEND, PublishReport

DRY_RUN_HEADING = "would publish (dry run: nothing written)"


IMPORT_WRITTEN_TABLES = ("leagues", "clubs", "series", "teams", "players", "match_scores", "schedule", "series_stats")


def print_init_plan(plan, triggers: dict, *, dry_run: bool) -> None:
    app_triggers = [f"{t}: {', '.join(names)}" for t, names in triggers.items() if t in IMPORT_WRITTEN_TABLES]
    if app_triggers:  # they run on the import's writes too (e.g. updated_at stamps); the import is fine with them
        print("the app's own triggers on tables the import writes: " + "; ".join(app_triggers))
    if plan.empty:
        print("schema ready: nothing to do")
        return
    verb = "would" if dry_run else "did"
    if plan.creates_app_schema:
        print(f"empty database: {verb} create the app's schema as app_models_2025-11-14.sql defines it")
    if plan.etl_schema:
        print(f"the ETL's own schema (rally_etl): {verb} run {len(plan.etl_schema)} statement(s)")
    if plan.app_extras:
        print(f"additive extras on the app's tables ({verb} add; nullable or index only):")
        for stmt in plan.app_extras:
            print(f"  {stmt}")


def print_report(league: str, heading: str, report: PublishReport | None, *, list_users: bool = False) -> None:
    print(f"{league}: {heading}")
    if report is None:
        return
    if report.scope is not None and report.scope.partial:
        print(f"  {report.scope.describe()}")
    for line in report.table_lines():
        print(f"  {line}")
    print(f"  {report.users_line()}")
    if list_users:
        for user in report.users_touched:
            print(f"  would change {user['user']}: {user['change']} ({user['reason']})")
        total = report.contexts_fixed + (report.links.links_carried if report.links else 0)
        if total > len(report.users_touched):
            print(f"  ... and {total - len(report.users_touched)} more")


def print_outcomes(outcomes) -> int:
    failed = 0
    for o in outcomes:
        if o.success:
            print_report(o.league, f"published (run {o.run_id})", o.publish)
        else:
            failed += 1
            print(f"{o.league}: FAILED {o.error}", file=sys.stderr)
    if any(o.success for o in outcomes):
        print(f"legend: {TABLE_LEGEND}")
    return 1 if failed else 0


def print_post_import(outcome) -> int:
    for name, (passed, why) in sorted(outcome.checks.items()):
        print(f"check {name}: {'passed' if passed else 'FAILED'} - {why}")
    if not outcome.success:
        print(f"after the import: FAILED {outcome.error}", file=sys.stderr)
        return 1
    return 0


def print_rehearsal(code: str, outcome) -> bool:
    """One league's dry run, printed as the real import prints it; False when it would fail."""
    if isinstance(outcome, InputError):
        print(f"{code}: FAILED {outcome}", file=sys.stderr)
        return False
    if outcome.blocked_by:
        why = outcome.verdicts[outcome.blocked_by].description
        print(f"{code}: FAILED blocked by check {outcome.blocked_by}: {why}", file=sys.stderr)
        return False
    print_report(code, DRY_RUN_HEADING, outcome.publish, list_users=True)
    print("  checks: " + "; ".join(f"{name} passed ({v.description})" for name, v in outcome.verdicts.items()))
    return True


def print_anomalies(anomalies: dict) -> None:
    print("user data as it is (reported, never changed to make room):")
    for kind, found in anomalies.items():
        ids = ", ".join(found["ids"]) + (" ..." if found["count"] > len(found["ids"]) else "")
        reasons = f" ({found['reasons']})" if found.get("reasons") else ""
        print(f"  {kind}: {found['count']}" + (f": {ids}" if found["count"] else "") + reasons)


def print_links(result: dict, dry_run: bool) -> None:
    """One line per link carried or discovered and per context set (what a dry run would do)."""
    link, put = ("[DRY RUN] would link", "[DRY RUN] would set") if dry_run else ("linked", "set")
    for c in result.get("carried", []):
        print(
            f"{link} user {c['user_id']} to {c['tenniscores_player_id']} ({c['league']}, was {c['old_player_id']}: {c['reason']})"
        )
    for c in result["discovered"]:
        print(
            f"{link} {c['email']} to {c['tenniscores_player_id']} ({c['league']}, confidence {c['confidence']}: {c['reason']})"
        )
    for c in result["contexts"]:
        print(f"{put} {c['email']} league context to {c['new_league']} ({c['reason']})")
