"""The cold CLI: `rally import` in a new process, on a fresh database (made ready by `rally init-db`,
untimed) and a fresh RALLY_HOME."""

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


def _rally_command() -> list[str]:
    script = Path(sys.executable).parent / "rally"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rally_assets.cli"]


def cold_cli_import(admin_url: str, landing: Path, work: Path) -> dict:
    """`rally import LANDING` in a new process, on a fresh database and a fresh RALLY_HOME (cold)."""
    home = work / f"cli-home-{uuid.uuid4().hex[:8]}"
    with fresh_database(admin_url, "cli") as url:
        settle(admin_url)
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        env.update({"RALLY_DATABASE_URL": url, "RALLY_HOME": str(home)})
        out_path = work / f"cli-{uuid.uuid4().hex[:8]}.log"
        # `rally init-db` first, untimed: the import runs on a database made ready as an operator would
        subprocess.run([*_rally_command(), "init-db"], env=env, check=True, capture_output=True)
        with open(out_path, "w") as out:
            t = _now()
            proc = subprocess.Popen(
                [*_rally_command(), "import", str(landing)], env=env, stdout=out, stderr=subprocess.STDOUT
            )
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
