"""The benchmark's workers, each run in a process of its own (so its peak RSS is its own):
the domain functions stage by stage, the Dagster job in-process, the landing sensor."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from rally_assets.core.errors import RallyError
from rally_assets.tooling.bench.baselines import live_copy_floor
from rally_assets.tooling.bench.common import _log, _now, _peak_rss_mb
from rally_assets.tooling.bench.health_scale import health_at_scale
from rally_assets.tooling.bench.real_import import import_landing, import_side_by_side

# --- worker: one landing (or several) through the domain functions, stage by stage --------------


def domain_worker(spec: dict) -> dict:
    """A fresh database (given), the schema (unless `rally init-db` made it ready: "init_db": false),
    then the steps in order: imports, the live-table COPY floor, users, the health checks."""
    from rally_assets.core import db
    from rally_assets.core.schema.init import init_db
    from rally_assets.tooling.synthetic.users import seed_users

    url = spec["url"]
    out: dict = {"imports": []}
    if spec.get("init_db", True):
        t = _now()
        with db.connection(url) as conn:
            init_db(conn)
        out["init_db_s"] = round(_now() - t, 3)
    for step in spec["steps"]:
        if step["kind"] == "import":
            out["imports"].append(_import_step(spec["name"], url, step))
        elif step["kind"] == "side_by_side":
            out["side_by_side"] = import_side_by_side(url, Path(step["landing"]), step["workers"])
            _log(f"{spec['name']}: {step['workers']} leagues at a time: {out['side_by_side']['wall_s']} s")
        elif step["kind"] == "live_copy_floor":
            out["live_copy_floor"] = live_copy_floor(url)
            _log(f"{spec['name']}: live-table COPY floor {out['live_copy_floor']['live_copy_floor_s']} s")
        elif step["kind"] == "users":
            with db.connection(url) as conn:
                out["users_seeded"] = seed_users(conn, step["n"], seed=7)
        elif step["kind"] == "health":
            _log(f"{spec['name']}: seeding {step['n']} users and timing the health checks")
            out["health"] = health_at_scale(
                url, step["n"], repeats=step.get("repeats", 3), reimport=step.get("reimport")
            )
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _import_step(name: str, url: str, step: dict) -> dict:
    _log(f"{name}: importing {step['label']} ({step['landing']})")
    result = import_landing(
        url,
        Path(step["landing"]),
        step["label"],
        allow_churn=step.get("allow_churn", False),
        floor=step.get("floor", True),
        parse_ahead=step.get("parse_ahead", False),
    )
    _log(
        f"{name}: {step['label']}: {result['leagues']} leagues, {result['rows_total']} rows in "
        f"{result['wall_s']} s ({result['stages_s']})"
    )
    return result


# --- worker: the Dagster job in-process -----------------------------------------------------------


def dagster_worker(spec: dict) -> dict:
    """`rally import`'s one run (runner.import_landing: every league, then the post-import) in this
    process, on a fresh database and a fresh DAGSTER_HOME made ready as `rally init-db` does: `real_import_s`."""
    os.environ["RALLY_DATABASE_URL"] = spec["url"]
    os.environ["DAGSTER_HOME"] = spec["dagster_home"]
    t = _now()
    from rally_assets.defs.runner import import_landing, prepare_dagster_home  # what `rally import` loads

    out: dict = {"python_imports_s": round(_now() - t, 3)}
    from rally_assets.core import db
    from rally_assets.core.schema.init import init_db

    t = _now()
    with db.connection(spec["url"]) as conn:
        init_db(conn)
    prepare_dagster_home()
    out["init_db_s"] = round(_now() - t, 3)
    for landing in spec["landings"]:
        policy = {"allow_churn": True} if landing.get("allow_churn") else None
        t = _now()
        outcome = import_landing(Path(landing["path"]), policy=policy)
        total = _now() - t
        post = outcome.post_import
        failed = [f"{o.league}: {o.error}" for o in outcome.leagues if not o.success]
        failed += [post.error] if post is not None and not post.success else []
        out[landing["label"]] = {
            "total_s": round(total, 3),
            "leagues": len(outcome.leagues),
            "checks_evaluated": sum(len(o.checks) for o in outcome.leagues) + (len(post.checks) if post else 0),
            "failed": failed,
        }
        _log(
            f"dagster: {landing['label']}: {round(total, 2)} s ({len(outcome.leagues)} leagues, "
            f"{out[landing['label']]['checks_evaluated']} check evaluations){'; FAILED ' + str(failed) if failed else ''}"
        )
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


# --- worker: the landing sensor -------------------------------------------------------------------


def _sensor_landing(root: Path, n: int) -> None:
    """`n` small league folders (a players.json and a schedules.json of a few KB), settled long ago."""
    past = time.time() - 3600
    for i in range(n):
        folder = root / f"BENCH_{i:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        players = [
            {
                "League": folder.name,
                "Player ID": f"p{i}-{j}",
                "First Name": "Pat",
                "Last Name": f"Player{j}",
                "Club": "Winnetka",
                "Series": "Series 1",
                "Wins": j % 7,
                "Losses": j % 5,
            }
            for j in range(20)
        ]
        schedule = [
            {
                "date": f"01/{d + 1:02d}/2025",
                "time": "06:30 pm",
                "home_team": "Winnetka - 1",
                "away_team": "Wilmette - 1",
                "location": "Winnetka",
                "series": "Series 1",
            }
            for d in range(8)
        ]
        for name, records in (("players.json", players), ("schedules.json", schedule)):
            path = folder / name
            path.write_text(json.dumps(records, indent=2))
            os.utime(path, (past, past))


def sensor_worker(spec: dict) -> dict:
    import dagster as dg

    from rally_assets.definitions import defs
    from rally_assets.defs.league_import.sensors import landing_sensor
    from rally_assets.defs.resources import LandingZone

    root = Path(spec["root"])
    t = _now()
    _sensor_landing(root, spec["folders"])
    build_s = _now() - t
    size = sum(p.stat().st_size for p in root.rglob("*.json"))
    resources = {"landing": LandingZone(path=str(root))}
    Path(spec["dagster_home"]).mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=spec["dagster_home"]) as instance:

        def tick(cursor):
            context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources, definitions=defs)
            t0 = _now()
            result = landing_sensor(context)
            return _now() - t0, result

        first_s, first = tick(None)
        steady = []
        for _ in range(spec.get("repeats", 5)):
            s, result = tick(first.cursor)
            steady.append(s)
            if result.run_requests:
                raise RallyError(f"a steady-state sensor tick requested {len(result.run_requests)} run(s)")
    return {
        "folders": spec["folders"],
        "landing_bytes": size,
        "build_s": round(build_s, 2),
        "first_tick_s": round(first_s, 3),
        "first_tick_run_requests": len(first.run_requests or []),
        "steady_tick_s": round(statistics.median(steady), 4),
        "steady_tick_runs_s": [round(x, 4) for x in steady],
        "peak_rss_mb": _peak_rss_mb(),
    }


WORKERS: dict[str, Callable[[dict], dict]] = {
    "domain": domain_worker,
    "dagster": dagster_worker,
    "sensor": sensor_worker,
}


def _worker_main(spec_path: str) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    spec = json.loads(Path(spec_path).read_text())
    result = WORKERS[spec["worker"]](spec)
    Path(spec["result"]).write_text(json.dumps(result, default=str))
    return 0


def run_worker(spec: dict, work: Path, env: dict | None = None) -> dict:
    """Run a worker in its own process (so its peak RSS is its own); return its JSON."""
    tag = uuid.uuid4().hex[:8]
    spec = {**spec, "result": str(work / f"result-{tag}.json")}
    spec_path = work / f"spec-{tag}.json"
    spec_path.write_text(json.dumps(spec))
    child_env = {**os.environ, **(env or {})}
    code = subprocess.call(
        [sys.executable, "-m", "rally_assets.tooling.bench", "--worker", str(spec_path)], env=child_env
    )
    if code != 0 or not Path(spec["result"]).exists():
        raise RallyError(
            f"benchmark worker {spec['worker']} ({spec.get('name', '')}) failed with exit code {code} (see above)"
        )
    return json.loads(Path(spec["result"]).read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rally_assets.tooling.bench")
    parser.add_argument("--worker", required=True, help="internal: run one benchmark worker from its JSON spec")
    args = parser.parse_args(argv)
    return _worker_main(args.worker)
