"""The cold CLI: `rally import` in a new process, on a fresh database (made ready by `rally init-db`,
untimed) and a fresh RALLY_HOME; optionally under cProfile (`profile_to`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from rally_assets.core.errors import RallyError
from rally_assets.tooling.bench.common import _now
from rally_assets.tooling.bench.databases import fresh_database, settle


def rally_command() -> list[str]:
    script = Path(sys.executable).parent / "rally"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rally_assets.cli"]


def rally_env(url: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a `rally` process on database `url` and RALLY_HOME `home` (no inherited DAGSTER_HOME)."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update({"RALLY_DATABASE_URL": url, "RALLY_HOME": str(home), **extra})
    return env


def init_db_cli(env: dict[str, str]) -> None:
    """`rally init-db` in its own process: the database made ready as an operator would (never timed)."""
    done = subprocess.run([*rally_command(), "init-db"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RallyError(
            f"`rally init-db` failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-500:]}"
        )


def cold_cli_import(admin_url: str, landing: Path, work: Path, profile_to: Path | None = None) -> dict:
    """`rally import LANDING` in a new process, on a fresh database and a fresh RALLY_HOME (cold)."""
    home = work / f"cli-home-{uuid.uuid4().hex[:8]}"
    command = [*rally_command(), "import", str(landing)]
    if profile_to is not None:  # the same command under cProfile (sys.exit in main ends it after the dump)
        command = [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(profile_to),
            "-m",
            "rally_assets.cli",
            "import",
            str(landing),
        ]
    with fresh_database(admin_url, "cli") as url:
        settle(admin_url)
        env = rally_env(url, home)
        out_path = work / f"cli-{uuid.uuid4().hex[:8]}.log"
        init_db_cli(env)
        with open(out_path, "w") as out:
            t = _now()
            proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = _now() - t
            proc.returncode = os.waitstatus_to_exitcode(status)
    shutil.rmtree(home, ignore_errors=True)
    log = out_path.read_text()
    if proc.returncode != 0:
        raise RallyError(f"the cold `rally import {landing}` failed (exit {proc.returncode}): {log.strip()[-500:]}")
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "output": log.strip().splitlines(),
    }
