"""The headline numbers and each target's verdict (`summarize`), and BENCHMARKS.md (`render_markdown`)."""

from __future__ import annotations

from pathlib import Path

from rally_assets.tooling.bench import sections
from rally_assets.tooling.bench.common import (
    OLD_ETL_MEDIAN_S,
    OLD_ETL_STATEMENTS,
    PROJECT_ROOT,
    STAGES,
    TARGETS,
    _fmt,
    _ratio,
)


def _check(key: str, value, skipped: dict) -> dict:
    op, target, what = TARGETS[key]
    ok = None if value is None else (value <= target if op == "<=" else value >= target)
    check = {"value": value, "target": f"{op} {target:g}", "what": what, "pass": ok}
    if value is None:
        check["skipped"] = skipped.get(key, "not measured")
    return check


def _headline(results: dict) -> dict:
    """The issue's keys from the measurements (and the ones kept as information)."""
    real_1 = results["real"]["imports"][0]
    publish = real_1["stages_s"]["publish"]
    cold, domain = results["cold_cli"]["median_s"], results["domain_path"]["median_s"]
    daemon, league_cli = results["daemon"].get("launch_to_success_median_s"), results["cold_cli_league"]["median_s"]
    live = results["real"]["live_copy_floor"]["live_copy_floor_s"]
    return {
        "real_import_cold_cli_s": cold,
        "speedup_vs_old_etl": _ratio(OLD_ETL_MEDIAN_S, cold),
        "domain_path_s": domain,
        "cold_cli_vs_domain": _ratio(cold, domain),
        # information: the domain functions with the leagues parsed ahead on the other cores, as the CLI does
        "domain_path_parsed_ahead_s": results["domain_path"]["parsed_ahead_median_s"],
        "cold_cli_vs_domain_parsed_ahead": _ratio(cold, results["domain_path"]["parsed_ahead_median_s"]),
        "daemon_import_s": daemon,
        "daemon_run_s": results["daemon"].get("run_median_s"),
        "cold_cli_league_s": league_cli,
        "daemon_vs_cli": _ratio(daemon, league_cli),
        "publish_s": publish,
        "live_copy_floor_s": live,
        "publish_vs_live_copy_ratio": _ratio(publish, live),
        "copy_floor_s": real_1["copy_floor_s"],  # information: unlogged, unindexed staging-shaped tables
        "publish_vs_copy_ratio": _ratio(publish, real_1["copy_floor_s"]),  # information only
        "real_import_s": results["dagster"]["import_1_s"],  # information: `rally import`'s run, in-process
    }


def summarize(results: dict) -> None:
    """The headline keys of the issue, and each target's PASS/MISS (None, with the reason in
    `skipped`, for what this run did not measure)."""
    real_1 = results["real"]["imports"][0]
    measured = {s["multiplier"]: s for s in results["scales"] if s["measured"]}
    x10, x100 = measured.get(10), measured.get(100)
    largest = measured[max(measured)]
    rss = [results[k]["peak_rss_mb"] for k in ("real", "domain_path", "dagster", "cold_cli", "cold_cli_league")]
    rss += [s["result"]["peak_rss_mb"] for s in measured.values()]
    results.update(_headline(results))
    results.update(
        {
            "peak_rss_mb": max(rss),
            "scale_100x_s": x100["result"]["imports"][0]["wall_s"] if x100 else None,
            "scale_10x_vs_1x": _ratio(x10["result"]["imports"][0]["total_s"], real_1["total_s"]) if x10 else None,
            "health_checks_100k_users_s": largest["result"]["health"]["health_checks_s"],
            "health_users": largest["result"]["health"]["counts"]["users"],
            "sensor_tick_1000_leagues_s": results["sensor"]["steady_tick_s"],
            "sensor_first_tick_1000_leagues_s": results["sensor"]["first_tick_s"],
        }
    )
    if x10:
        results["rows_10x_vs_1x"] = _ratio(x10["result"]["imports"][0]["rows_total"], real_1["rows_total"])
    if x10 and "side_by_side" in x10:  # information: two leagues in flight at once (publishes take turns)
        results["scale_10x_two_at_once_s"] = x10["side_by_side"]["wall_s"]
        results["scale_10x_two_at_once_vs_one"] = _ratio(
            x10["side_by_side"]["wall_s"], x10["result"]["imports"][0]["wall_s"]
        )
    if x10 and 1 in measured:
        results["scale_10x_vs_1x_synthetic"] = _ratio(
            x10["result"]["imports"][0]["total_s"], measured[1]["result"]["imports"][0]["total_s"]
        )
    if x10 and x100:
        results["scale_100x_vs_10x"] = _ratio(
            x100["result"]["imports"][0]["total_s"], x10["result"]["imports"][0]["total_s"]
        )
        results["rows_100x_vs_10x"] = _ratio(
            x100["result"]["imports"][0]["rows_total"], x10["result"]["imports"][0]["rows_total"]
        )
    skipped = {}
    if x100 is None:
        skipped["scale_100x_s"] = "not measured: this run stopped before 100x (--quick stops after 10x)"
    if results["daemon_import_s"] is None:
        skipped["daemon_import_s"] = skipped["daemon_vs_cli"] = results["daemon"].get("skipped", "not measured")
    results["skipped"] = skipped
    results["targets"] = {key: _check(key, results.get(key), skipped) for key in TARGETS}


# --- BENCHMARKS.md -----------------------------------------------------------------------------------


def _reimport_line(h: dict) -> str:
    r = h.get("reimport_one_league")
    if not r:
        return "- (no league re-imported)"
    if "cancelled_after_s" in r:
        return f"- re-import of one league (its same files) with these users: **cancelled after {_fmt(r['cancelled_after_s'], 0)} s**"
    if r["blocked"]:
        return f"- re-import of one league (its same files) with these users: blocked by a check ({', '.join(r['blocked'])})"
    steps = r["publish_steps_s"]
    slow = sorted(steps.items(), key=lambda kv: -kv[1])[:3]
    return (
        f"- re-import of one league (its same files, {_fmt(r['rows_total'])} rows) with these users, as every later "
        f"import does it per league: **{_fmt(r['total_s'])} s** ("
        + ", ".join(f"{k} {_fmt(v)}" for k, v in r["stages_s"].items() if k not in ("discovery",))
        + "; slowest publish steps: "
        + ", ".join(f"{k} {_fmt(v)}" for k, v in slow)
        + ")"
    )


def _capped_fmt(h: dict, key: str) -> str:
    return f"**more than {_fmt(h['cap_s'], 0)} s (cancelled)**" if h[key] is None else f"{_fmt(h[key], 3)} s"


def _verdict(check: dict) -> str:
    return "not measured" if check["pass"] is None else ("**PASS**" if check["pass"] else "**MISS**")


def render_markdown(results: dict) -> str:
    lines = [
        *_header_and_machine(results),
        *_targets(results),
        *_scale_table(results),
        *_scaling_notes(results),
        *_memory_table(results),
        *sections.floors(results),
        *_publish_steps(results),
        *sections.dagster_and_cli(results),
        *sections.daemon(results),
        *_health(results),
        *_sensor(results),
        *sections.closing_note(results),
        *_reproduce(results),
    ]
    return "\n".join(lines)


def _header_and_machine(results: dict) -> list[str]:
    m = results["machine"]
    return [
        "# Benchmarks",
        "",
        f"Generated by `{results['command']}` on {results['started_at']} "
        f"({'quick run: 100x not measured' if results['quick'] else 'full run'}; the whole run took "
        f"{_fmt(results['bench_wall_s'], 0)} s). Regenerate it with the command below; every number is from that run.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {_fmt(m['ram_gib'], 1)} GiB; {m['os']}",
        f"- CPU yardstick (a pure-Python loop of 10 million additions, best of 3, at the start): "
        f"{_fmt(m.get('cpu_yardstick_s'), 3)} s; absolute times in this report scale with it between runs",
        f"- PostgreSQL {m['postgresql']} ({', '.join(f'{k}={v}' for k, v in sorted(m['postgresql_settings'].items()))})",
        f"- Python {m['python']}, pandas {m['pandas']}, Dagster {m['dagster']}, psycopg {m['psycopg']}",
        f"- load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_start'])}; at the end "
        f"{', '.join(f'{x:.2f}' for x in m.get('loadavg_end', []))} (other work on the machine shows up here)",
        "",
    ]


def _targets(results: dict) -> list[str]:
    lines = [
        "## Targets",
        "",
        "| measure | value | target | verdict |",
        "|---|---:|---:|---|",
    ]
    for key, check in results["targets"].items():
        lines.append(f"| `{key}`: {check['what']} | {_fmt(check['value'])} | {check['target']} | {_verdict(check)} |")
    return [
        *lines,
        "",
        f"The old importer took a median {OLD_ETL_MEDIAN_S} s on the same `import_1` files on this machine kind (the "
        f"issue's measurement; it is not re-run here), with {OLD_ETL_STATEMENTS:,} single-row statements and no checks "
        "at all. A target not measured in this run says why in the closing note.",
        "",
    ]


def _scale_row(name: str, imp: dict, rss) -> str:
    s = imp["stages_s"]
    return (
        f"| {name} | {imp['leagues']} | {_fmt(imp['rows_total'])} | "
        + " | ".join(_fmt(s[k]) for k in STAGES)
        + f" | {_fmt(imp['total_s'])} | {_fmt(imp['wall_s'])} | {_fmt(imp['rows_per_s'])} | {_fmt(rss, 0)} |"
    )


def _scale_table(results: dict) -> list[str]:
    real = results["real"]["imports"]
    lines = [
        "## Import by scale",
        "",
        "Wall time per stage in seconds, through the domain functions the Dagster assets call (parse, stage "
        "= COPY into staging, snapshot, publish = the one-transaction publish, discovery = league contexts + "
        "association discovery, checks = every asset check); total = their sum, wall = the import's wall time "
        "(the staging COPY floor measured beside it taken out; `scale_100x_s` is the 100x wall). Rows = players + "
        "teams + fact rows staged. "
        "Peak RSS is the whole process's (a fresh process per scale). Every measurement starts on a fresh "
        "database after a `CHECKPOINT`, so it does not pay for the dirty pages of the one before.",
        "",
        "| scale | leagues | rows | parse | stage | snapshot | publish | discovery | checks | total | wall | rows/s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.append(_scale_row("real import_1", real[0], results["real"]["peak_rss_mb"]))
    if len(real) > 1:
        lines.append(
            _scale_row(
                f"real import_2 (on import_1, {results['real'].get('users_seeded', {}).get('users', 0):,} users, "
                "--allow-churn)",
                real[1],
                results["real"]["peak_rss_mb"],
            )
        )
    for s in results["scales"]:
        if s["measured"]:
            lines.append(
                _scale_row(
                    f"synthetic {s['multiplier']}x (scale {s['scale']})",
                    s["result"]["imports"][0],
                    s["result"]["peak_rss_mb"],
                )
            )
        else:
            lines.append(
                f"| synthetic {s['multiplier']}x (scale {s['scale']}) | {s['leagues']} | not measured (`--quick`) "
                "| | | | | | | | | | |"
            )
    return lines


def _scaling_notes(results: dict) -> list[str]:
    scale_notes = []
    if results.get("scale_10x_vs_1x") is not None:
        scale_notes.append(
            f"10x took {_fmt(results['scale_10x_vs_1x'])}x the time of the real import_1 for "
            f"{_fmt(results['rows_10x_vs_1x'])}x its rows"
        )
    if results.get("scale_10x_vs_1x_synthetic") is not None:
        scale_notes.append(f"{_fmt(results['scale_10x_vs_1x_synthetic'])}x the time of synthetic 1x")
    if results.get("scale_100x_vs_10x") is not None:
        scale_notes.append(
            f"100x took {_fmt(results['scale_100x_vs_10x'])}x the time of 10x for "
            f"{_fmt(results['rows_100x_vs_10x'])}x its rows"
        )
    lines = ["", "Scaling: " + "; ".join(scale_notes) + "."] if scale_notes else []
    if results.get("scale_10x_two_at_once_s") is not None:
        lines += ["", sections.two_at_once_line(results) + "."]
    return lines


def _memory_table(results: dict) -> list[str]:
    lines = [
        "",
        "Memory per league: the current RSS after each league (the process keeps one league's frames at a time).",
        "",
        "| scale | RSS after the first league MB | RSS after the last league MB | max between leagues MB | peak MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, imp, peak in [("real import_1", results["real"]["imports"][0], results["real"]["peak_rss_mb"])] + [
        (f"synthetic {s['multiplier']}x", s["result"]["imports"][0], s["result"]["peak_rss_mb"])
        for s in results["scales"]
        if s["measured"]
    ]:
        lines.append(
            f"| {name} | {_fmt(imp['rss_after_first_league_mb'], 0)} | {_fmt(imp['rss_after_last_league_mb'], 0)} | "
            f"{_fmt(imp['rss_max_between_leagues_mb'], 0)} | {_fmt(peak, 0)} |"
        )
    return lines


def _publish_steps(results: dict) -> list[str]:
    steps = results["real"]["imports"][0]["publish_steps_s"]
    checks = results["real"]["imports"][0]["checks_s"]
    return [
        "",
        "Publish steps, real import_1 (s; `record` includes the commit and the clean-up of the staging rows):",
        "",
        "| " + " | ".join(steps) + " |",
        "|" + "---:|" * len(steps),
        "| " + " | ".join(_fmt(v, 3) for v in steps.values()) + " |",
        "",
        "Checks, real import_1 (s, each check's time summed over the leagues; the `checks` stage above is their sum):",
        "",
        "| " + " | ".join(checks) + " |",
        "|" + "---:|" * len(checks),
        "| " + " | ".join(_fmt(v, 3) for v in checks.values()) + " |",
        "",
    ]


def _health(results: dict) -> list[str]:
    health_scale = max((s for s in results["scales"] if s["measured"]), key=lambda s: s["multiplier"])
    h = health_scale["result"]["health"]
    return [
        "",
        f"## Health checks over {h['counts']['users']:,} users",
        "",
        f"On the synthetic {health_scale['multiplier']}x database ({h['counts']['players']:,} players"
        + (
            f", {h['players_added_for_users']:,} of them copies, in a league of their own, added so every user has "
            "a player of their own"
            if h["players_added_for_users"]
            else ""
        )
        + f"), {h['counts']['users']:,} users seeded set-based with `synthetic_users.seed_users` "
        f"({h['counts']['associations']:,} associations, {h['counts']['availability']:,} availability rows; 2% of the "
        f"league contexts set to NULL), then ANALYZE.",
        "",
        f"- health checks (league-context health, availability `user_id` coverage, orphan references): median "
        f"**{_fmt(h['health_checks_s'], 3)} s** over {len(h['health_checks_runs_s'])} runs "
        f"({', '.join(f'{k} {v:.3f}' for k, v in h['health_checks_parts_s'].items())})",
        _reimport_line(h),
        f"- the pieces of an import that read every user, on their own (each cancelled after {_fmt(h['cap_s'], 0)} s): "
        f"league contexts of one league's users (the publish's repair, here outside the publish's transaction and its "
        f"planner settings) {_capped_fmt(h, 'publish_contexts_one_league_s')}; league contexts of every user "
        f"(`post_import_job`'s `league_contexts`) {_capped_fmt(h, 'post_import_contexts_s')}"
        + (f" ({_fmt(h['contexts_fixed'])} fixed)" if h["contexts_fixed"] is not None else "")
        + f"; discovery {_capped_fmt(h, 'post_import_discovery_s')}; one league's user-data snapshot "
        f"{_capped_fmt(h, 'snapshot_one_league_s')} (taken once per league per import)",
        "",
    ]


def _sensor(results: dict) -> list[str]:
    sensor = results["sensor"]
    return [
        f"## Landing sensor over {sensor['folders']:,} league folders",
        "",
        f"- steady state (cursor holds every folder, nothing changed): median **{_fmt(sensor['steady_tick_s'], 4)} s** "
        f"({', '.join(f'{x:.4f}' for x in sensor['steady_tick_runs_s'])})",
        f"- first tick (hashes every folder, {sensor['first_tick_run_requests']:,} run requests): "
        f"{_fmt(sensor['first_tick_s'], 3)} s over {_fmt(sensor['landing_bytes'] / 1e6, 1)} MB",
        "",
    ]


def _reproduce(results: dict) -> list[str]:
    return [
        "## Reproduce",
        "",
        "```bash",
        ".venv/bin/rally bench --json bench.json                 # full run (1x, 10x, 100x); rewrites BENCHMARKS.md",
        ".venv/bin/rally bench --quick --json bench-quick.json   # stops after 10x (CI); --markdown PATH to write a table",
        "```",
        "",
        "The databases are created on RALLY_DATABASE_URL's server (else the embedded one) with `CREATE DATABASE` and "
        "dropped afterwards. The real data is read from `../shared/data/rally_real` (`--real-data` to change it). "
        f"Synthetic scale N is 3N leagues of ~900 players; N is chosen so the rows are ~1x, ~10x and ~100x those of "
        f"the real import_1 ({_fmt(results['real']['imports'][0]['rows_total'])} rows; one unit of synthetic scale "
        f"stages {_fmt(results['synthetic_unit_rows'])}).",
        "",
    ]


def default_markdown_path() -> Path:
    """BENCHMARKS.md beside pyproject.toml in a checkout, else in the current folder."""
    return (
        PROJECT_ROOT / "BENCHMARKS.md" if (PROJECT_ROOT / "pyproject.toml").exists() else Path.cwd() / "BENCHMARKS.md"
    )
