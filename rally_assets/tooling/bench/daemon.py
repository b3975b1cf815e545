"""One league through a real `dagster dev` (webserver, daemon, code server; each run in a process of
its own): from the GraphQL launch to the run's SUCCESS, on a fresh database each run.

The server gets a fresh DAGSTER_HOME with the dagster.yaml
`rally ui` writes, a fresh RALLY_HOME, an empty watched landing (the landing sensor finds nothing),
and a database made ready by `rally init-db`. The run is launched as the UI's launchpad does it:
the partition added, `import_league_job` launched with `landing_dir` pointing at the league's folder.
The post-import run its publish triggers (post_import_sensor) is waited for before the next run, so
runs never overlap; its own duration is recorded as information.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

from rally_assets.core.errors import RallyError
from rally_assets.core.settings import dagster_yaml
from rally_assets.tooling.bench.cold_cli import init_db_cli, rally_env
from rally_assets.tooling.bench.common import PROJECT_ROOT, _log, _now
from rally_assets.tooling.bench.databases import create_database, drop_database, settle, with_dbname

POLL_S = 0.2
LOAD_TIMEOUT_S = 180.0
RUN_TIMEOUT_S = 300.0
SENSOR_INTERVAL_S = "5"  # the post-import sensor's interval on the bench's server (so it follows within ~5 s)
DONE = {"SUCCESS", "FAILURE", "CANCELED"}
IN_PROGRESS = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]


class DaemonUnavailable(RallyError):
    """`dagster dev` could not be started or did not load the code location."""


class _Server:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.location = "rally_assets"
        self.startup_s: float | None = None

    def query(self, text: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": text, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        if "errors" in payload:
            raise RallyError(f"GraphQL error from dagster dev: {json.dumps(payload['errors'])[:500]}")
        return payload["data"]

    def loaded(self) -> bool:
        try:
            data = self.query("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }")
        except OSError:
            return False
        entries = data["workspaceOrError"]["locationEntries"]
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            self.location = entries[0]["name"]
            return True
        return False

    def selector(self) -> dict:
        return {"repositoryLocationName": self.location, "repositoryName": "__repository__"}

    def add_partition(self, league: str) -> None:
        self.query(
            """mutation Add($selector: RepositorySelector!, $key: String!) {
                 addDynamicPartition(repositorySelector: $selector, partitionsDefName: "leagues", partitionKey: $key) {
                   __typename } }""",
            {"selector": self.selector(), "key": league},
        )

    def launch(self, league: str, landing: Path) -> str:
        params = {
            "selector": {**self.selector(), "jobName": "import_league_job"},
            "runConfigData": {"ops": {"import_league": {"config": {"landing_dir": str(landing)}}}},
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": league}]},
        }
        launched = self.query(
            """mutation Launch($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) {
                 __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
                 ... on RunConfigValidationInvalid { errors { message } } } }""",
            {"params": params},
        )["launchPipelineExecution"]
        if launched["__typename"] != "LaunchRunSuccess":
            raise RallyError(f"dagster dev refused the launch: {json.dumps(launched)[:500]}")
        return launched["run"]["runId"]

    def run(self, run_id: str) -> dict:
        return self.query(
            "query R($id: ID!) { runOrError(runId: $id) { ... on Run { status startTime endTime } } }", {"id": run_id}
        )["runOrError"]

    def runs(self, **run_filter) -> list[dict]:
        return self.query(
            """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) {
                 ... on Runs { results { runId status startTime endTime } } } }""",
            {"filter": run_filter},
        )["runsOrError"]["results"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dagster_dev(env: dict[str, str], log_path: Path):
    """A `dagster dev` in a process session of its own; stopped (SIGINT to the session, then SIGKILL) after."""
    port = _free_port()
    workspace = PROJECT_ROOT / "workspace.yaml"
    target = ["-w", str(workspace)] if workspace.exists() else ["-m", "rally_assets.definitions"]
    log = open(log_path, "w")  # noqa: SIM115 - open for the whole server run
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", *target, "-p", str(port), "-h", "127.0.0.1"],
        cwd=PROJECT_ROOT if workspace.exists() else None,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = _Server(port)
    try:
        t = _now()
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while not server.loaded():
            if proc.poll() is not None:
                raise DaemonUnavailable(f"dagster dev exited ({proc.returncode}): {_tail(log_path)}")
            if time.monotonic() > deadline:
                raise DaemonUnavailable(f"dagster dev did not load within {LOAD_TIMEOUT_S:.0f} s: {_tail(log_path)}")
            time.sleep(0.5)
        server.startup_s = round(_now() - t, 2)
        yield server
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # the whole session: webserver, daemon, code server, runs
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()


def _tail(path: Path) -> str:
    return " | ".join(path.read_text(errors="replace").strip().splitlines()[-5:])[-800:]


def _wait(what: str, condition, timeout: float = RUN_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_S)
    raise RallyError(f"timed out after {timeout:.0f} s waiting for {what}")


def _one_run(server: _Server, league: str, landing: Path, rally_url: str) -> dict:
    """Launch, poll every 0.2 s until the run is done; then the post-import run that follows it."""
    launched_at = time.time()
    t = _now()
    run_id = server.launch(league, landing)
    run = _wait("the import run", lambda: (r := server.run(run_id))["status"] in DONE and r)
    wall = _now() - t
    if run["status"] != "SUCCESS":
        raise RallyError(f"the import run {run_id} of {league} ended {run['status']} (see the dagster dev log)")
    with psycopg.connect(rally_url) as conn:
        status = conn.execute("SELECT status FROM rally_etl.import_runs WHERE run_id = %s", (run_id,)).fetchone()
    if status is None or status[0] != "published":
        raise RallyError(f"the import run {run_id} of {league} succeeded without publishing ({status})")
    post = _wait(
        "the post-import run",
        lambda: [r for r in server.runs(tags=[{"key": "rally/after_run", "value": run_id}]) if r["status"] in DONE],
        timeout=120,
    )[0]
    _wait("no run in progress", lambda: not server.runs(statuses=IN_PROGRESS))
    return {
        "run_id": run_id,
        "launch_to_success_s": round(wall, 3),
        "run_s": round(run["endTime"] - run["startTime"], 3),  # the run's own start to end
        "launch_to_start_s": round(run["startTime"] - launched_at, 3),  # queue, run process, code loaded
        "post_import_status": post["status"],
        "post_import_run_s": round(post["endTime"] - post["startTime"], 3) if post["endTime"] else None,
    }


def _reset_database(admin_url: str, name: str, env: dict[str, str]) -> None:
    """The same database name, empty again, made ready by `rally init-db` (the server's URL does not change)."""
    drop_database(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    init_db_cli(env)
    settle(admin_url)


def daemon_import(admin_url: str, landing: Path, league: str, work: Path, repeats: int) -> dict:
    """`league` (a folder of `landing`) imported `repeats` times through a real `dagster dev`, each on a
    fresh database; raises DaemonUnavailable when the server cannot start."""
    home, rally_home, watched = work / "daemon-dagster-home", work / "daemon-rally-home", work / "daemon-watched"
    for folder in (home, rally_home, watched):
        folder.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(dagster_yaml(home))  # what `rally ui`'s home holds
    name, url = create_database(admin_url, "daemon")
    try:
        env = rally_env(
            url,
            rally_home,
            DAGSTER_HOME=str(home),
            RALLY_LANDING_DIR=str(watched),
            RALLY_SENSOR_INTERVAL_SECONDS=SENSOR_INTERVAL_S,
        )
        init_db_cli(env)
        with dagster_dev(env, work / "dagster-dev.log") as server:
            _log(f"dagster dev loaded in {server.startup_s} s; {repeats} run(s) of {league}")
            server.add_partition(league)
            runs = []
            for i in range(repeats):
                if i:
                    _reset_database(admin_url, name, env)
                runs.append(_one_run(server, league, landing, with_dbname(admin_url, name)))
                _log(f"dagster dev: {league} launch to success {runs[-1]['launch_to_success_s']} s")
        return {"league": league, "startup_s": server.startup_s, "runs": runs, **_coordinator(home)}
    finally:
        drop_database(admin_url, name)


def _coordinator(home: Path) -> dict:
    """How that instance queues and launches runs (read from its DAGSTER_HOME once the server is gone)."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        coordinator = instance.run_coordinator
        return {
            "run_coordinator": type(coordinator).__name__,
            "dequeue_interval_s": getattr(coordinator, "dequeue_interval_seconds", None),
            "run_launcher": type(instance.run_launcher).__name__,
        }
    finally:
        instance.dispose()
