"""The README's pictures of the Dagster UI, taken from a real `dagster dev` (nothing drawn by hand).

    python -m rally_assets.tooling.screenshots [--out docs/screenshots] [--database-url ADMIN_URL]

On a throwaway database (made on the server of --database-url, else RALLY_SCREENSHOTS_SERVER, else the
local PostgreSQL; dropped at the end) and a throwaway DAGSTER_HOME, RALLY_HOME and landing folder, it
runs `rally init-db` and `dagster dev`, lands the real league folders of import_1 (the landing sensor
imports each league, the post-import sensor runs post_import_job), seeds users and takes the user_id
off half their availability, launches health_check_job (availability_user_id_check fails, the repair
sensor's repair_job makes it pass again), then photographs the UI with headless Chromium (Debian
package `chromium`). Everything is removed at the end, on failure too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from rally_assets.core import db
from rally_assets.tooling.bench.common import PROJECT_ROOT, REAL_DATA
from rally_assets.tooling.bench.databases import with_dbname

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCATION = "rally_assets"
LEAGUES = ("APTA_CHICAGO", "CNSWPL", "NSTF")
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1600,1000"]
CHROMIUM_FLAGS += ["--run-all-compositor-stages-before-draw", "--virtual-time-budget=30000"]
# file -> (path of the UI page, what it shows)
PAGES = {
    "asset-graph.png": ("/asset-groups", "the global asset lineage: Rally tables and the app's tables"),
    "check-history.png": (
        "/assets/player_availability?view=checks&checkDetail=availability_user_id_check",
        "availability_user_id_check on player_availability: failed, then passed after the repair",
    ),
    "league-checks.png": ("/assets/staged_league?view=checks&partition=CNSWPL", "staged_league's checks for CNSWPL"),
}
UNFINISHED = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "MANAGED"]
LAUNCH = """mutation L($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUNS = """query R($f: RunsFilter) { runsOrError(filter: $f) { ... on Runs { results { runId jobName status } } } }"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        sys.exit("no chromium or chromium-browser on the PATH: install the Debian package `chromium`")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_sql(admin_url: str, statement: str) -> None:
    with db.connection(admin_url) as conn:
        conn.execute(statement)


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def wait_for(what: str, done, timeout: float = 300.0):
    """Poll `done()` every second until it returns something truthy; that is returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            result = done()
            if result:
                return result
        time.sleep(1)
    raise TimeoutError(f"gave up waiting {timeout:.0f}s for {what}")


def runs(port: int, **run_filter) -> list[dict]:
    return graphql(port, RUNS, {"f": run_filter})["runsOrError"]["results"]


def succeeded(port: int, count: int = 1, **run_filter) -> list[dict]:
    """The matching runs once `count` of them succeeded (empty before); a failed one is an error."""
    found = runs(port, **run_filter)
    if any(r["status"] in ("FAILURE", "CANCELED") for r in found):
        raise RuntimeError(f"a run failed: {[(r['jobName'], r['runId'], r['status']) for r in found]}")
    return found if sum(r["status"] == "SUCCESS" for r in found) >= count else []


def idle(port: int, quiet_seconds: float = 12.0) -> bool:
    """No run queued or in progress for `quiet_seconds` (the sensors tick every 2 s)."""
    deadline = time.monotonic() + quiet_seconds
    while time.monotonic() < deadline:
        if runs(port, statuses=UNFINISHED):
            return False
        time.sleep(1)
    return True


def location_loaded(port: int) -> bool:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    entries = graphql(port, query)["workspaceOrError"]["locationEntries"]
    return any(e["name"] == LOCATION and e["loadStatus"] == "LOADED" for e in entries)


def start_server(env: dict, port: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-p", str(port), "-h", "127.0.0.1"]
    with log.open("w") as out:
        server = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    wait_for(f"dagster dev to load {LOCATION} (log: {log})", lambda: location_loaded(port), timeout=180)
    return server


def stop_server(server: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def launch(port: int, job: str) -> str:
    selector = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "jobName": job}
    result = graphql(port, LAUNCH, {"p": {"selector": selector, "runConfigData": {}}})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launching {job}: {result.get('message') or result['__typename']}")
    return result["run"]["runId"]


def break_availability(url: str) -> None:
    from rally_assets.tooling.synthetic.users import seed_users

    with db.connection(url) as conn:
        seed_users(conn, 200, seed=3)
        conn.execute("UPDATE player_availability SET user_id = NULL WHERE id % 2 = 0")


def story(port: int, url: str, data: Path, landing: Path) -> None:
    """Imports through the landing sensor, then a failed health check repaired by the repair sensor."""
    for league in LEAGUES:
        shutil.copytree(data / league, landing / league, copy_function=shutil.copy)  # fresh mtimes
    print(f"landed {', '.join(LEAGUES)}; waiting for the imports", flush=True)
    tag = [{"key": "dagster/sensor_name", "value": "landing_sensor"}]
    wait_for("3 imports by landing_sensor", lambda: succeeded(port, len(LEAGUES), tags=tag))
    wait_for("post_import_job", lambda: succeeded(port, pipelineName="post_import_job"))
    wait_for("the sensors to go quiet", lambda: idle(port))
    break_availability(url)
    check_run = launch(port, "health_check_job")
    print(f"health_check_job {check_run[:8]} launched on broken availability; waiting for the repair", flush=True)
    wait_for("health_check_job", lambda: succeeded(port, runIds=[check_run]))
    repair = [{"key": "rally/failed_run", "value": check_run}]
    wait_for("repair_job after the failed check", lambda: succeeded(port, tags=repair))
    wait_for("the sensors to go quiet", lambda: idle(port))


def shoot(browser: str, port: int, out: Path, profile: Path) -> list[Path]:
    written = []
    for name, (page, what) in PAGES.items():
        target = out / name
        cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={target}"]
        subprocess.run([*cmd, f"http://127.0.0.1:{port}{page}"], check=True, capture_output=True, timeout=180)
        print(f"wrote {target}: {what}", flush=True)
        written.append(target)
    return written


def server_env(url: str, tmp: Path) -> dict:
    env = {**os.environ, "RALLY_DATABASE_URL": url, "RALLY_HOME": str(tmp / "rally")}
    env |= {"RALLY_LANDING_DIR": str(tmp / "landing"), "DAGSTER_HOME": str(tmp / "dagster")}
    env |= {"RALLY_LANDING_SETTLE_SECONDS": "1", "RALLY_SENSOR_INTERVAL_SECONDS": "2"}
    for key in ("RALLY_HOME", "RALLY_LANDING_DIR", "DAGSTER_HOME"):
        Path(env[key]).mkdir(parents=True)
    (tmp / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return env


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
    browser = chromium()
    name = f"rally_shots_{uuid.uuid4().hex[:8]}"
    admin_sql(args.database_url, f'CREATE DATABASE "{name}"')
    stack.callback(admin_sql, args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    url = with_dbname(args.database_url, name)
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rally_shots_")))
    env = server_env(url, tmp)
    init = [sys.executable, "-m", "rally_assets.cli", "init-db"]
    subprocess.run(init, env=env, cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    print(f"database {name}; starting dagster dev on port {port}", flush=True)
    server = start_server(env, port, tmp / "dagster-dev.log")
    stack.callback(stop_server, server)
    try:
        story(port, url, args.data, Path(env["RALLY_LANDING_DIR"]))
    except BaseException:
        sys.stderr.write((tmp / "dagster-dev.log").read_text()[-4000:])
        raise
    args.out.mkdir(parents=True, exist_ok=True)
    shoot(browser, port, args.out, tmp / "chromium")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rally_assets.tooling.screenshots", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots", help="where the PNGs go")
    server = os.environ.get("RALLY_SCREENSHOTS_SERVER") or DEFAULT_SERVER
    parser.add_argument("--database-url", default=server, help=f"admin URL of the server (default {server})")
    parser.add_argument("--data", type=Path, default=REAL_DATA / "import_1", help="the league folders to land")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        run(args, stack)
    print(f"done in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
