"""End to end through a real `dagster dev`: files land -> the sensor imports them -> checks over
GraphQL; availability loses its user_id -> the next import's checks fail -> the repair sensor
launches the repair job -> the check history shows failed, then passed.

The server runs in its own process session with a fresh DAGSTER_HOME whose storage is a fresh
PostgreSQL database (deploy/dagster.yaml); every process it started is stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rally_assets.core import db
from rally_assets.tooling.synthetic.users import seed_users
from rally_assets_tests.conftest import (
    IMPORT_1,
    PROJECT_ROOT,
    create_database,
    dagster_storage,
    drop_database,
    requires_real_data,
    with_dbname,
)

PROJECT = PROJECT_ROOT
TIMEOUT = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DagsterDev:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/graphql"

    def query(self, text: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": text, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload
        return payload["data"]

    def runs(self, **run_filter) -> list[dict]:
        data = self.query(
            """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) {
                 ... on Runs { results { runId status jobName tags { key value } } } } }""",
            {"filter": run_filter},
        )
        return data["runsOrError"]["results"]

    def check_history(self, asset: str, check: str, partition: str | None = None) -> list[dict]:
        data = self.query(
            """query Checks($key: AssetKeyInput!, $name: String!, $partition: String) {
                 assetCheckExecutions(assetKey: $key, checkName: $name, limit: 20, partition: $partition) {
                   id runId status partition evaluation { success } } }""",
            {"key": {"path": [asset]}, "name": check, "partition": partition},
        )
        return data["assetCheckExecutions"]

    def materialize(self, assets: list[str], partition: str, run_config: dict) -> dict:
        """What the UI's Materialize button sends for one league partition: first it asks which
        assets must run with the selected ones (a non-subsettable multi-asset), and adds them (the
        UI's "must be materialized together" dialog); then it launches the asset job on them."""
        keys = [{"path": [name]} for name in assets]
        required = self.query(
            "query R($keys: [AssetKeyInput!]!) { assetNodeAdditionalRequiredKeys(assetKeys: $keys) { path } }",
            {"keys": keys},
        )["assetNodeAdditionalRequiredKeys"]
        return self.launch("__ASSET_JOB", keys + required, {"dagster/partition": partition}, run_config)

    def launch(self, job: str, asset_keys: list[dict], tags: dict, run_config: dict | None = None) -> dict:
        params = {
            "selector": {
                "repositoryLocationName": "rally_assets",
                "repositoryName": "__repository__",
                "jobName": job,
                "assetSelection": asset_keys,
            },
            "runConfigData": run_config or {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        return self.query(
            """mutation Launch($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) {
                 __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
                 ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }""",
            {"params": params},
        )["launchPipelineExecution"]


def wait_for(what: str, condition, timeout: float = TIMEOUT, every: float = 1.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def land(folder: Path, landing: Path) -> None:
    """Copy a league folder into the landing zone as a scraper would (fresh mtimes)."""
    target = landing / folder.name
    shutil.copytree(folder, target)
    now = time.time()
    for path in target.iterdir():
        os.utime(path, (now, now))


@pytest.fixture
def dagster_dev(server_url, schema_template, tmp_path):
    rally_db = create_database(server_url, template=schema_template)
    dagster_db = create_database(server_url)
    home, landing = tmp_path / "dagster_home", tmp_path / "landing"
    home.mkdir()
    landing.mkdir()
    storage = dagster_storage(home, server_url, dagster_db)
    rally_url = with_dbname(server_url, rally_db)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "RALLY_DATABASE_URL": rally_url,
        "RALLY_LANDING_DIR": str(landing),
        "RALLY_LANDING_SETTLE_SECONDS": "1",
        "RALLY_SENSOR_INTERVAL_SECONDS": "2",
        **storage,
    }
    port = free_port()
    log = open(tmp_path / "dagster_dev.log", "w")  # noqa: SIM115 - open for the whole server run
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(PROJECT / "workspace.yaml"),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
        ],
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = DagsterDev(port)
    try:

        def loaded():
            if proc.poll() is not None:
                raise AssertionError(f"dagster dev exited: {(tmp_path / 'dagster_dev.log').read_text()[-3000:]}")
            try:
                data = server.query("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }")
            except OSError:
                return False
            entries = data["workspaceOrError"]["locationEntries"]
            return entries and all(e["loadStatus"] == "LOADED" for e in entries)

        wait_for("dagster dev to load the code location", loaded, timeout=120)
        yield server, landing, rally_url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # the whole session: webserver, daemon, code server, runs
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()
        drop_database(server_url, rally_db)
        drop_database(server_url, dagster_db)


def _succeeded(runs: list[dict]) -> list[dict]:
    failed = [r for r in runs if r["status"] in ("FAILURE", "CANCELED")]
    assert not failed, failed
    return [r for r in runs if r["status"] == "SUCCESS"]


@requires_real_data
def test_landing_import_then_failed_check_then_repair(dagster_dev):
    server, landing, rally_url = dagster_dev

    # 1. a real league lands: the landing sensor imports it, the post-import job follows
    land(IMPORT_1 / "NSTF", landing)
    (imported,) = wait_for(
        "the sensor's import run",
        lambda: _succeeded(server.runs(tags=[{"key": "dagster/sensor_name", "value": "landing_sensor"}])),
    )
    assert {"key": "dagster/partition", "value": "NSTF"} in imported["tags"]
    checks = server.check_history("player_availability", "availability_untouched")
    assert [c["status"] for c in checks] == ["SUCCEEDED"] and checks[0]["runId"] == imported["runId"]
    (breaker,) = server.check_history("staged_league", "churn_breaker", partition="NSTF")
    assert breaker["status"] == "SUCCEEDED" and breaker["partition"] == "NSTF"
    wait_for("the post-import run", lambda: _succeeded(server.runs(pipelineName="post_import_job")))

    # 2. the app has users; then availability rows lose their user_id
    with db.connection(rally_url) as conn:
        seed_users(conn, 200, seed=3)
        conn.execute("UPDATE player_availability SET user_id = NULL WHERE id % 2 = 0")

    # 3. the next league lands: its post-import checks fail, the repair sensor launches the repair job
    land(IMPORT_1 / "CNSWPL", landing)
    repairs = wait_for("the repair job", lambda: _succeeded(server.runs(pipelineName="repair_job")))
    assert {"key": "dagster/sensor_name", "value": "repair_sensor"} in repairs[0]["tags"]

    history = wait_for(
        "the check to pass again",
        lambda: (
            (h := server.check_history("player_availability", "availability_user_id_check"))
            and h[0]["status"] == "SUCCEEDED"
            and "FAILED" in [c["status"] for c in h]
            and h
        ),
    )
    statuses = [c["status"] for c in history]  # newest first
    assert statuses[0] == "SUCCEEDED" and statuses.index("FAILED") > 0
    assert history[0]["runId"] == repairs[0]["runId"]
    with db.connection(rally_url) as conn:
        assert conn.execute("SELECT count(*) FROM player_availability WHERE user_id IS NULL").fetchone()[0] == 0


@requires_real_data
def test_materialize_from_the_ui_runs_the_league_chain_and_the_post_import_follows(dagster_dev, tmp_path):
    server, _landing, rally_url = dagster_dev
    # a folder of the operator's choosing, named in the launchpad (the landing sensor does not watch it)
    folder = tmp_path / "by_hand"
    shutil.copytree(IMPORT_1 / "NSTF", folder / "NSTF")
    config = {"ops": {"import_league": {"config": {"landing_dir": str(folder)}}}}
    server.query(
        """mutation Add($selector: RepositorySelector!) {
             addDynamicPartition(repositorySelector: $selector, partitionsDefName: "leagues", partitionKey: "NSTF") {
               __typename } }""",
        {"selector": {"repositoryLocationName": "rally_assets", "repositoryName": "__repository__"}},
    )
    # Materialize on one table asset alone cannot run: the publish writes every table in one transaction
    alone = server.launch("__ASSET_JOB", [{"path": ["players"]}], {"dagster/partition": "NSTF"}, config)
    assert alone["__typename"] != "LaunchRunSuccess" and "subsetting" in json.dumps(alone)

    launched = server.materialize(["players"], partition="NSTF", run_config=config)
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    wait_for("the UI-launched run", lambda: _succeeded(server.runs(runIds=[run_id])))
    # the whole chain ran: staged, judged per league, snapshotted, every table published
    (integrity,) = server.check_history("staged_league", "scrape_integrity", partition="NSTF")
    assert integrity["runId"] == run_id and integrity["status"] == "SUCCEEDED"
    with db.connection(rally_url) as conn:
        assert conn.execute("SELECT count(*) FROM players").fetchone()[0] == 808
        assert conn.execute("SELECT status FROM rally_etl.import_runs WHERE run_id = %s", (run_id,)).fetchone() == (
            "published",
        )
    # the post-import follows the publish, though no import job ran
    (post,) = wait_for(
        "the post-import run",
        lambda: _succeeded(
            server.runs(pipelineName="post_import_job", tags=[{"key": "rally/after_run", "value": run_id}])
        ),
    )
    assert {"key": "dagster/sensor_name", "value": "post_import_sensor"} in post["tags"]
