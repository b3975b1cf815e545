"""The sections of BENCHMARKS.md on the floors, the paths to an import (domain functions, Dagster
in-process, cold CLI, `dagster dev`) and the closing note on each missed target."""

from __future__ import annotations

import statistics

from rally_assets.tooling.bench.common import OLD_ETL_MEDIAN_S, _fmt, _ratio


def _top(steps: dict[str, float], n: int = 3, digits: int = 3) -> str:
    return ", ".join(f"{k} {_fmt(v, digits)}" for k, v in sorted(steps.items(), key=lambda kv: -kv[1])[:n])


# --- floors ----------------------------------------------------------------------------------------


def _staging_floor_row(name: str, imp: dict) -> str:
    return (
        f"| {name} | {_fmt(imp['rows_total'])} | {_fmt(imp.get('copy_floor_s'), 3)} | {_fmt(imp['stages_s']['stage'])} | "
        f"{_fmt(imp['stages_s']['publish'])} | {_fmt(_ratio(imp['stages_s']['publish'], imp.get('copy_floor_s')))} |"
    )


def floors(results: dict) -> list[str]:
    real = results["real"]["imports"]
    live = results["real"]["live_copy_floor"]
    lines = [
        "",
        "## The publish and its floors (same rows, same database, same run)",
        "",
        f"- **The live-table floor** (`live_copy_floor_s`, the target's): the rows the publish of real import_1 left "
        f"in the live tables ({_fmt(live['rows_total'])} rows in {len(live['order'])} tables: "
        f"{', '.join(live['order'])}), read out with `COPY (SELECT ...) TO STDOUT` beforehand, then COPY'd into empty "
        f"copies of those tables (`CREATE TABLE ... (LIKE public.t INCLUDING ALL)`: {live['indexes']} indexes with "
        f"their unique and primary keys, the check constraints, the defaults) with the live tables' "
        f"{live['foreign_keys']} foreign keys re-created between the copies, logged, parents first, in one "
        f"transaction: **{_fmt(live['live_copy_floor_s'], 3)} s** (commit {_fmt(live['commit_s'], 3)} s; per table: "
        f"{_top(live['tables_s'], n=4)}).",
        f"- The publish of the same three leagues (the sum of their `publish` stages): **{_fmt(results['publish_s'], 3)} "
        f"s**, {_fmt(results['publish_vs_live_copy_ratio'])}x that floor. Besides writing those rows, the publish "
        "diffs them against what is live, deletes what went away in scope, keeps user links and league contexts "
        "right, and records the run.",
        "- **The staging COPY floor** (`copy_floor_s`, information only): the rows each league stages, already "
        "Python tuples, COPY'd (`write_row`) into empty UNLOGGED tables with the staging tables' columns and no "
        "index, one transaction per league. Building the tuples is not counted "
        f"(real import_1: {_fmt(real[0].get('copy_floor_rows_from_frames_s'), 3)} s). Publish ÷ this floor is "
        f"`publish_vs_copy_ratio` = {_fmt(results['publish_vs_copy_ratio'])} (no target).",
        "",
        "| data | rows staged | staging COPY floor s | stage s | publish s | publish ÷ staging floor |",
        "|---|---:|---:|---:|---:|---:|",
        _staging_floor_row("real import_1", real[0]),
    ]
    if len(real) > 1:
        lines.append(_staging_floor_row("real import_2 (on import_1)", real[1]))
    for s in results["scales"]:
        if s["measured"]:
            lines.append(_staging_floor_row(f"synthetic {s['multiplier']}x", s["result"]["imports"][0]))
    return lines


# --- the paths to an import -------------------------------------------------------------------------


def _profile_line(p: dict) -> str:
    return (
        f"under cProfile the same cold import took {_fmt(p['wall_s'])} s ({_fmt(p['profiled_wall_s'])} s profiled): "
        f"Python imports {_fmt(p['imports_s'])} s, Dagster's `execute_in_process` (the runs) {_fmt(p['dagster_runs_s'])} "
        f"s, Rally's domain code {_fmt(p['domain_s'])} s (mostly inside the runs), SQLite calls (Dagster's run and "
        f"event storage) {_fmt(p['sqlite_s'])} s; the most own time: "
        + ", ".join(f"`{name}` {_fmt(tt, 3)} s ({calls:,} calls)" for name, tt, calls in p["top_own_time"][:5])
    )


def dagster_and_cli(results: dict) -> list[str]:
    d, c, dp = results["dagster"], results["cold_cli"], results["domain_path"]
    lines = [
        "## The domain functions, the Dagster job and the CLI (real import_1)",
        "",
        f"- The domain functions alone (`domain_path_s`): `pipeline.import_league` per league + `pipeline.post_import` "
        f"once, in a worker process with the modules already imported, on a fresh database made ready by "
        f"`rally init-db` (untimed): median **{_fmt(dp['median_s'])} s** over {len(dp['runs_s'])} run(s) "
        f"({', '.join(_fmt(x) for x in dp['runs_s'])}; stages of the last: {_top(dp['stages_s'], n=6, digits=2)}). "
        f"The same with the leagues parsed ahead on the other cores, as `rally import` parses them "
        f"(`domain_path_parsed_ahead_s`, information): median {_fmt(dp['parsed_ahead_median_s'])} s "
        f"({', '.join(_fmt(x) for x in dp['parsed_ahead_runs_s'])}); the cold CLI is "
        f"{_fmt(results['cold_cli_vs_domain_parsed_ahead'])}x that.",
        f"- Cold `rally import import_1` (new process, fresh database made ready by `rally init-db`, untimed, fresh "
        f"RALLY_HOME): median **{_fmt(c['median_s'])} s** ({', '.join(_fmt(x) for x in c['runs_s'])}), peak RSS "
        f"{_fmt(c['peak_rss_mb'], 0)} MB: {_fmt(results['cold_cli_vs_domain'])}x the domain functions, "
        f"{_fmt(results['speedup_vs_old_etl'])}x faster than the old importer ({OLD_ETL_MEDIAN_S} s).",
        f"- Where the cold CLI's time goes: {_profile_line(c['profile'])}.",
        f"- `rally import`'s one Dagster run in-process (`runner.import_landing`: every league, then the "
        f"post-import; fresh database and DAGSTER_HOME made ready as `rally init-db` does, every check; "
        f"`real_import_s`, information): median {_fmt(d['import_1_s'])} s over {len(d['runs'])} run(s) "
        f"({', '.join(_fmt(r['import_1']['total_s']) for r in d['runs'])}); Python + Dagster start-up "
        f"(`import rally_assets.defs.runner`) {_fmt(statistics.median(r['python_imports_s'] for r in d['runs']))} s "
        "more in a cold process.",
    ]
    if "import_2_s" in d:
        lines.append(f"- `import_2` after it through the job (`--allow-churn`): median {_fmt(d['import_2_s'])} s.")
    return lines


def daemon(results: dict) -> list[str]:
    dm, cl = results["daemon"], results["cold_cli_league"]
    lines = ["", f"## One league through `dagster dev` ({dm['league']})", ""]
    cli = (
        f"- The same league alone through a cold `rally import` (a landing holding only {dm['league']}; fresh database, "
        f"`rally init-db` untimed; the CLI also runs the post-import job): median **{_fmt(cl['median_s'])} s** "
        f"({', '.join(_fmt(x) for x in cl['runs_s'])})."
    )
    if "skipped" in dm:
        return [*lines, f"- **Not measured**: {dm['skipped']}", cli]
    runs = dm["runs"]
    return [
        *lines,
        f"A real `dagster dev` (webserver, daemon, code server; loaded in {_fmt(dm['startup_s'])} s) with a fresh "
        f"DAGSTER_HOME (SQLite storage, {dm['run_coordinator']} dequeuing every {dm['dequeue_interval_s']} s, "
        f"{dm['run_launcher']}: a process per run), a database made ready by `rally init-db`, fresh before each run. "
        f"Each run: the partition added once, `import_league_job` launched over GraphQL (`launchPipelineExecution`, "
        f"`landing_dir` in the run config), polled every 0.2 s until SUCCESS. The post-import run its publish "
        "triggers is waited for before the next run (runs never overlap).",
        "",
        f"- launch to SUCCESS (`daemon_import_s`): median **{_fmt(dm['launch_to_success_median_s'])} s** "
        f"({', '.join(_fmt(r['launch_to_success_s']) for r in runs)}); of it, launch to the run's start (the queue, "
        f"the run's process, the code loaded in it): {', '.join(_fmt(r['launch_to_start_s']) for r in runs)} s; the "
        f"run's own start to end: median {_fmt(dm['run_median_s'])} s ({', '.join(_fmt(r['run_s']) for r in runs)})",
        f"- the post-import run that followed each (its own duration, not in `daemon_import_s`): "
        f"{', '.join(_fmt(r['post_import_run_s']) for r in runs)} s",
        cli,
        f"- `daemon_vs_cli` = {_fmt(results['daemon_vs_cli'])}",
    ]


# --- the closing note ------------------------------------------------------------------------------


def _why_cli(results: dict) -> str:
    c, p = results["cold_cli"], results["cold_cli"]["profile"]
    return (
        f"the cold CLI takes {_fmt(c['median_s'])} s where the domain functions take "
        f"{_fmt(results['domain_path_s'])} s on the same files: {_fmt(c['median_s'] - results['domain_path_s'])} s "
        f"is outside them. Profile: {_profile_line(p)}"
    )


def _why_daemon(results: dict) -> str:
    dm = results["daemon"]
    waits = [r["launch_to_start_s"] for r in dm["runs"]]
    return (
        f"of the {_fmt(dm['launch_to_success_median_s'])} s from launch to SUCCESS, the run itself takes "
        f"{_fmt(dm['run_median_s'])} s (median) and the wait before it starts {_fmt(statistics.median(waits))} s "
        f"(median): the {dm['run_coordinator']} hands queued runs to the launcher every {dm['dequeue_interval_s']} s, "
        f"then {dm['run_launcher']} starts a new Python process that imports Dagster and the definitions; the CLI "
        f"takes {_fmt(results['cold_cli_league_s'])} s for the same league, its post-import job included"
    )


def _why_publish(results: dict) -> str:
    live = results["real"]["live_copy_floor"]
    steps = results["real"]["imports"][0]["publish_steps_s"]
    return (
        f"the publish of import_1 takes {_fmt(results['publish_s'], 3)} s, the COPY of its rows into the live tables' "
        f"copies {_fmt(live['live_copy_floor_s'], 3)} s. Publish steps (s, summed over the leagues), slowest: "
        f"{_top(steps, n=4)}; the floor's slowest tables: {_top(live['tables_s'], n=4)}"
    )


def _per_league(imp: dict, key: str) -> dict[str, float]:
    return {k: v / imp["leagues"] for k, v in imp.get(key, {}).items()} if imp["leagues"] else {}


def _why_100x(results: dict) -> str:
    scales = {s["multiplier"]: s for s in results["scales"] if s["measured"]}
    x100 = scales[100]["result"]["imports"][0]
    note = (
        f"the 100x import's wall time is {_fmt(x100['wall_s'])} s for {_fmt(x100['rows_total'])} rows in "
        f"{x100['leagues']} leagues, one league after another: stages {_top(x100['stages_s'], n=6, digits=2)}; "
        f"slowest publish steps {_top(x100['publish_steps_s'], n=3, digits=2)}"
    )
    if 10 not in scales:
        return note
    if results.get("scale_10x_two_at_once_s") is not None:
        note += f". {two_at_once_line(results)}"
    x10 = scales[10]["result"]["imports"][0]
    growth = []
    for key in ("stages_s", "checks_s", "publish_steps_s"):
        at_10, at_100 = _per_league(x10, key), _per_league(x100, key)
        slow = sorted(at_100, key=lambda k: -at_100[k])[:4]
        growth += [
            f"{k} {_fmt(at_10.get(k), 3)} -> {_fmt(at_100[k], 3)}"
            for k in slow[: 2 if key == "checks_s" else 4]
            if k != "parse"
        ]
    return (
        f"{note}. The leagues are of the same size at both scales, yet per league (s, 10x -> 100x): "
        + ", ".join(growth)
        + f"; parse {_fmt(_per_league(x10, 'stages_s')['parse'], 3)} -> {_fmt(_per_league(x100, 'stages_s')['parse'], 3)}"
        " stays flat: a league's checks and publish cost grows with the rows the database already holds"
    )


def two_at_once_line(results: dict) -> str:
    """The 10x landing with two leagues in flight at once (information for the scale targets)."""
    x10 = next(s for s in results["scales"] if s["multiplier"] == 10)
    share = x10["result"]["imports"][0]["stages_s"]["publish"] / x10["result"]["imports"][0]["wall_s"]
    return (
        f"Two leagues at once (`scale_10x_two_at_once_s`, information): the 10x landing with two leagues in flight, "
        f"each on a connection of its own, on a fresh database, took {_fmt(results['scale_10x_two_at_once_s'])} s, "
        f"{_fmt(results['scale_10x_two_at_once_vs_one'])}x the one-at-a-time wall; the publishes take turns on one "
        f"lock (leagues share clubs, series and users) and were {share:.0%} of the one-at-a-time wall, so only the "
        "rest can overlap, on two cores that also run the database server"
    )


def _why_health(results: dict) -> str:
    largest = max((s for s in results["scales"] if s["measured"]), key=lambda s: s["multiplier"])
    h = largest["result"]["health"]
    return (
        f"over {h['counts']['users']:,} users and {h['counts']['players']:,} players, the median run's parts: "
        f"{_top(h['health_checks_parts_s'], n=3)} (runs {', '.join(_fmt(x, 3) for x in h['health_checks_runs_s'])} s)"
    )


def _why_10x(results: dict) -> str:
    x10 = next(s for s in results["scales"] if s["multiplier"] == 10)["result"]["imports"][0]
    real_1 = results["real"]["imports"][0]
    grew = {k: _ratio(v, real_1["stages_s"][k]) for k, v in x10["stages_s"].items() if real_1["stages_s"][k] >= 0.01}
    return (
        f"10x ({_fmt(x10['rows_total'])} rows, {x10['leagues']} leagues) took {_fmt(x10['total_s'])} s, real import_1 "
        f"({_fmt(real_1['rows_total'])} rows) {_fmt(real_1['total_s'])} s; each stage grew by: "
        + ", ".join(f"{k} {_fmt(v)}x" for k, v in sorted(grew.items(), key=lambda kv: -(kv[1] or 0)))
        + f"; slowest checks at 10x {_top(x10.get('checks_s', {}), n=3, digits=2)}"
        + f"; slowest publish steps at 10x {_top(x10['publish_steps_s'], n=3, digits=2)}"
    )


WHY = {
    "real_import_cold_cli_s": _why_cli,
    "speedup_vs_old_etl": _why_cli,
    "cold_cli_vs_domain": _why_cli,
    "daemon_vs_cli": _why_daemon,
    "publish_vs_live_copy_ratio": _why_publish,
    "scale_100x_s": _why_100x,
    "scale_10x_vs_1x": _why_10x,
    "health_checks_100k_users_s": _why_health,
}


def closing_note(results: dict) -> list[str]:
    missed = {k: c for k, c in results["targets"].items() if c["pass"] is False}
    skipped = {k: c for k, c in results["targets"].items() if c["pass"] is None}
    lines = ["## Missed targets", ""]
    if not missed:
        lines.append("Every target measured in this run is met.")
    explained: set = set()
    for key, check in missed.items():
        why = WHY.get(key)
        reason = why(results) if why and why not in explained else ("see above" if why else "no profile gathered")
        if why:
            explained.add(why)
        lines.append(f"- `{key}` = {_fmt(check['value'])} (target {check['target']}): {reason}.")
    for key, check in skipped.items():
        lines.append(f"- `{key}`: {check['skipped']}.")
    return [*lines, ""]
