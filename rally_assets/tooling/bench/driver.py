"""`run_bench`: the driver. Every measurement in a worker process of its own, on a fresh database."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rally_assets.core.errors import RallyError
from rally_assets.core.file_types import STAGED_FRAMES  # the staged tables a landing counts
from rally_assets.tooling.bench.cold_cli import cold_cli_import, init_db_cli, rally_env
from rally_assets.tooling.bench.common import (
    DAEMON_LEAGUE,
    FULL_MULTIPLIERS,
    HEALTH_USERS,
    QUICK_MULTIPLIERS,
    REAL_DATA,
    REAL_USERS,
    SENSOR_FOLDERS,
    _log,
    _now,
)
from rally_assets.tooling.bench.daemon import DaemonUnavailable, daemon_import
from rally_assets.tooling.bench.databases import fresh_database, server_admin_url, settle
from rally_assets.tooling.bench.machine import machine_info
from rally_assets.tooling.bench.profiling import summarize_profile
from rally_assets.tooling.bench.report import render_markdown, summarize
from rally_assets.tooling.bench.workers import run_worker


def count_rows(landing: Path) -> dict[str, int]:
    """Rows a landing stages (players, teams, facts), by parsing it."""
    from rally_assets.core.parsing.league import parse_league
    from rally_assets.core.parsing.reading import find_leagues

    rows = dict.fromkeys(STAGED_FRAMES.values(), 0)
    for folder in find_leagues(landing):
        parsed = parse_league(folder)
        for attr in rows:
            rows[attr] += len(getattr(parsed, attr))
    return rows


@dataclass(frozen=True)
class _Setup:
    """What every measurement of one run_bench call runs with."""

    admin_url: str
    work: Path
    import_1: Path
    import_2: Path
    multipliers: tuple[int, ...]
    players_per_league: int
    health_users: int
    real_users: int
    sensor_folders: int
    repeats: int
    seed: int


def run_bench(
    *,
    quick: bool = False,
    json_path: Path | None = None,
    markdown_path: Path | None = None,
    admin_url: str | None = None,
    real_dir: Path = REAL_DATA,
    multipliers: tuple[int, ...] | None = None,
    players_per_league: int = 900,
    health_users: int = HEALTH_USERS,
    real_users: int = REAL_USERS,
    sensor_folders: int = SENSOR_FOLDERS,
    repeats: int = 3,
    seed: int = 0,
    command: str = "rally bench",
) -> dict:
    """Measure everything; write the JSON and the markdown when asked; return the results."""
    started = dt.datetime.now(dt.UTC)
    t_start = _now()
    real_dir = Path(real_dir)
    import_1, import_2 = real_dir / "import_1", real_dir / "import_2"
    if not import_1.is_dir():
        raise RallyError(f"the real data is not there: {import_1} (pass the folder holding import_1 and import_2)")
    multipliers = tuple(multipliers or (QUICK_MULTIPLIERS if quick else FULL_MULTIPLIERS))
    admin_url = admin_url or server_admin_url()
    results: dict = {"started_at": started.isoformat(timespec="seconds"), "quick": quick, "command": command}
    results["machine"] = machine_info(admin_url)
    work = Path(tempfile.mkdtemp(prefix="rally-bench-"))
    try:
        setup = _Setup(
            admin_url=admin_url,
            work=work,
            import_1=import_1,
            import_2=import_2,
            multipliers=multipliers,
            players_per_league=players_per_league,
            health_users=health_users,
            real_users=real_users,
            sensor_folders=sensor_folders,
            repeats=repeats,
            seed=seed,
        )
        _measure(setup, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    results["machine"]["loadavg_end"] = list(os.getloadavg())
    results["bench_wall_s"] = round(_now() - t_start, 1)
    summarize(results)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2, default=str) + "\n")
    if markdown_path:
        Path(markdown_path).write_text(render_markdown(results))
    return results


def _measure(s: _Setup, results: dict) -> None:
    # 1. Real data through the domain functions, stage by stage, with the COPY floors.
    results["real"] = _measure_real(s)
    # 2. import_1 through the domain functions alone, as the cold CLI's database is made ready.
    results["domain_path"] = _measure_domain_path(s)
    # 3. The Dagster job in-process (real_import_s), and the cold CLI, each `repeats` times on fresh state;
    #    then one cold CLI under cProfile (where its time goes).
    results.update(_measure_dagster_and_cli(s))
    # 4. One league through a real `dagster dev`, and the same league alone through the cold CLI.
    results["daemon"], results["cold_cli_league"] = _measure_daemon(s)
    # 3. Synthetic scales: N so that the rows are ~multiplier x the real import_1's.
    results["scales"], results["synthetic_unit_rows"] = _measure_scales(s, results["real"]["imports"][0])
    # 4. The landing sensor over 1,000 league folders.
    results["sensor"] = _measure_sensor(s)


def _measure_real(s: _Setup) -> dict:
    steps = [
        {"kind": "import", "label": "import_1", "landing": str(s.import_1), "parse_ahead": True},
        {"kind": "live_copy_floor"},  # the rows import_1 published, into empty copies of the live tables
    ]
    if s.import_2.is_dir():
        steps += [
            {"kind": "users", "n": s.real_users},
            {
                "kind": "import",
                "label": "import_2",
                "landing": str(s.import_2),
                "allow_churn": True,
                "parse_ahead": True,
            },
        ]
    with fresh_database(s.admin_url, "real") as url:
        settle(s.admin_url)
        return run_worker({"worker": "domain", "name": "real", "url": url, "steps": steps}, s.work)


def _measure_dagster_and_cli(s: _Setup) -> dict:
    dagster_runs, cli_runs = [], []
    for i in range(s.repeats):
        dagster_runs.append(_dagster_run(s, i))
        cli = cold_cli_import(s.admin_url, s.import_1, s.work)
        _log(f"cold `rally import import_1`: {cli['wall_s']} s, peak RSS {cli['peak_rss_mb']} MB")
        cli_runs.append(cli)
    dagster = {
        "runs": dagster_runs,
        "import_1_s": statistics.median(r["import_1"]["total_s"] for r in dagster_runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in dagster_runs),
    }
    if s.import_2.is_dir():
        dagster["import_2_s"] = statistics.median(r["import_2"]["total_s"] for r in dagster_runs)
    cold_cli = _cli_summary(cli_runs)
    profile_path = s.work / "cold-cli.prof"
    profiled = cold_cli_import(s.admin_url, s.import_1, s.work, profile_to=profile_path)
    cold_cli["profile"] = {"wall_s": profiled["wall_s"], **summarize_profile(profile_path)}
    _log(f"cold `rally import import_1` under cProfile: {profiled['wall_s']} s")
    return {"dagster": dagster, "cold_cli": cold_cli}


def _cli_summary(cli_runs: list[dict]) -> dict:
    return {
        "runs_s": [c["wall_s"] for c in cli_runs],
        "median_s": statistics.median(c["wall_s"] for c in cli_runs),
        "peak_rss_mb": max(c["peak_rss_mb"] for c in cli_runs),
        "output": cli_runs[-1]["output"],
    }


def _measure_domain_path(s: _Setup) -> dict:
    """import_1 through pipeline.import_league per league + pipeline.post_import, nothing beside it, on a
    fresh database made ready by `rally init-db` (untimed) as the cold CLI's: the wall of those calls.
    Each repeat twice: one league parsed after the other (`domain_path_s`, the work itself), and with
    the leagues parsed ahead on the other cores as `rally import` parses them (information)."""
    runs: dict[bool, list] = {False: [], True: []}
    peaks = []
    for _ in range(s.repeats):
        for ahead in (False, True):
            with fresh_database(s.admin_url, "domain") as url:
                init_db_cli(rally_env(url, s.work / "domain-rally-home"))
                settle(s.admin_url)
                spec = {"worker": "domain", "name": "domain path", "url": url, "init_db": False}
                step = {"kind": "import", "label": "import_1", "landing": str(s.import_1), "floor": False}
                spec["steps"] = [{**step, "parse_ahead": ahead}]
                result = run_worker(spec, s.work)
                runs[ahead].append(result["imports"][0])
                peaks.append(result["peak_rss_mb"])
                _log(f"domain path, import_1{' (parsed ahead)' if ahead else ''}: {runs[ahead][-1]['wall_s']} s")
    serial = runs[False]
    return {
        "runs_s": [r["wall_s"] for r in serial],
        "median_s": statistics.median(r["wall_s"] for r in serial),
        "stages_s": serial[-1]["stages_s"],
        "leagues": serial[-1]["leagues"],
        "blocked": sorted({league for r in serial for league in r["blocked"]}),
        "parsed_ahead_runs_s": [r["wall_s"] for r in runs[True]],
        "parsed_ahead_median_s": statistics.median(r["wall_s"] for r in runs[True]),
        "peak_rss_mb": max(peaks),
    }


def _daemon_landing(s: _Setup) -> tuple[Path, str]:
    """A landing holding only the daemon's league (NSTF, else the first league of import_1), copied."""
    folders = sorted(p for p in s.import_1.iterdir() if p.is_dir())
    folder = next((p for p in folders if p.name.upper() == DAEMON_LEAGUE), folders[0])
    landing = s.work / "one-league"
    shutil.copytree(folder, landing / folder.name)
    return landing, folder.name.upper()


def _measure_daemon(s: _Setup) -> tuple[dict, dict]:
    """The league through `dagster dev` (`repeats` runs), then alone through the cold CLI (`repeats` runs)."""
    landing, league = _daemon_landing(s)
    try:
        daemon = daemon_import(s.admin_url, landing, league, s.work, s.repeats)
        daemon["launch_to_success_median_s"] = statistics.median(r["launch_to_success_s"] for r in daemon["runs"])
        daemon["run_median_s"] = statistics.median(r["run_s"] for r in daemon["runs"])
    except DaemonUnavailable as exc:
        _log(f"dagster dev could not run: {exc}")
        daemon = {"league": league, "skipped": f"dagster dev could not start: {exc}"}
    cli_runs = []
    for _ in range(s.repeats):
        cli_runs.append(cold_cli_import(s.admin_url, landing, s.work))
        _log(f"cold `rally import` of {league} alone: {cli_runs[-1]['wall_s']} s")
    return daemon, {"league": league, **_cli_summary(cli_runs)}


def _dagster_run(s: _Setup, i: int) -> dict:
    with fresh_database(s.admin_url, "dagster") as url:
        settle(s.admin_url)
        landings = [{"label": "import_1", "path": str(s.import_1)}]
        if s.import_2.is_dir():
            landings.append({"label": "import_2", "path": str(s.import_2), "allow_churn": True})
        return run_worker(
            {
                "worker": "dagster",
                "name": "dagster",
                "url": url,
                "landings": landings,
                "dagster_home": str(s.work / f"dagster-home-{i}"),
            },
            s.work,
        )


def _measure_scales(s: _Setup, real_1: dict) -> tuple[list[dict], int]:
    """Each scale sized to ~multiplier x the rows of the real import_1; the unmeasured ones listed too."""
    from rally_assets.tooling.synthetic.landing import generate_landing

    unit_landing = s.work / "unit"
    generate_landing(unit_landing, scale=1, seed=s.seed, players_per_league=s.players_per_league)
    unit_rows = sum(count_rows(unit_landing).values())
    shutil.rmtree(unit_landing, ignore_errors=True)
    real_rows = real_1["rows_total"]
    scales = []
    all_multipliers = sorted(set(s.multipliers) | {1, 10, 100})
    for m in all_multipliers:
        n = max(1, round(m * real_rows / unit_rows))
        entry: dict = {"multiplier": m, "scale": n, "leagues": 3 * n, "measured": m in s.multipliers}
        if m in s.multipliers:
            _measure_scale(s, entry, m, n)
        scales.append(entry)
    return scales, unit_rows


def _measure_scale(s: _Setup, entry: dict, m: int, n: int) -> None:
    """Synthetic scale n (multiplier m) generated, then imported in a worker; the health run on the largest."""
    from rally_assets.tooling.synthetic.landing import generate_landing

    landing = s.work / f"landing-x{m}"
    t = _now()
    generate_landing(landing, scale=n, seed=s.seed, players_per_league=s.players_per_league)
    entry["generate_s"] = round(_now() - t, 2)
    entry["landing_bytes"] = sum(p.stat().st_size for p in landing.rglob("*.json"))
    steps = [{"kind": "import", "label": f"x{m}", "landing": str(landing), "parse_ahead": True}]
    if m == max(s.multipliers):
        first_league = sorted(p for p in landing.iterdir() if p.is_dir())[0]
        steps.append({"kind": "health", "n": s.health_users, "repeats": s.repeats, "reimport": str(first_league)})
    _log(f"scale {m}x: {3 * n} leagues (generated in {entry['generate_s']} s)")
    with fresh_database(s.admin_url, f"x{m}") as url:
        settle(s.admin_url)
        entry["result"] = run_worker({"worker": "domain", "name": f"x{m}", "url": url, "steps": steps}, s.work)
    if m == 10:  # information: the same landing with two leagues in flight at once, on a fresh database
        with fresh_database(s.admin_url, f"x{m}-side") as url:
            settle(s.admin_url)
            side = [{"kind": "side_by_side", "landing": str(landing), "workers": 2}]
            entry["side_by_side"] = run_worker(
                {"worker": "domain", "name": f"x{m}", "url": url, "steps": side}, s.work
            )["side_by_side"]
    shutil.rmtree(landing, ignore_errors=True)


def _measure_sensor(s: _Setup) -> dict:
    _log(f"landing sensor over {s.sensor_folders} league folders")
    return run_worker(
        {
            "worker": "sensor",
            "name": "sensor",
            "root": str(s.work / "sensor-landing"),
            "folders": s.sensor_folders,
            "dagster_home": str(s.work / "sensor-home"),
            "repeats": 5,
        },
        s.work,
    )
