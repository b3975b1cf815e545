"""The README's pictures of the Dagster UI, taken from a real `dagster dev` (nothing drawn by hand).

    python -m rally_assets.tooling.screenshots [--out docs/screenshots] [--database-url ADMIN_URL]

On a throwaway database (on the server of --database-url, else RALLY_SCREENSHOTS_SERVER, else the local
PostgreSQL) and throwaway DAGSTER_HOME, RALLY_HOME and landing folder: `rally init-db`, `dagster dev`;
import_1's league folders land (landing sensor -> one import per league -> post_import_job); users are
seeded and half their availability loses its user_id; health_check_job fails availability_user_id_check
and the repair sensor's repair_job makes it pass. Then headless Chromium (Debian package `chromium`),
driven over the DevTools protocol on a pipe, photographs each page once its content is there (clicking
the tabs it needs). Everything is removed at the end, on failure too.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import select
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
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--remote-debugging-pipe"]
VIEWPORT = {"width": 1500, "height": 1100, "deviceScaleFactor": 1.5, "mobile": False}  # a 2250x1650 PNG
# file -> (UI path, steps, what it shows). Each step is a text waited for on the page and clicked, but
# the last, only waited for. {groups} opens every asset group of the lineage.
PAGES = {
    "asset-graph.png": ("/asset-groups?expanded={groups}", ["series_stats"], "the global asset lineage"),
    "check-history.png": (
        "/assets/player_availability?view=checks&checkDetail=availability_user_id_check",
        ["Execution history", "Failed"],
        "availability_user_id_check's history: passed, failed (half the rows), passed after the repair",
    ),
    "league-checks.png": (
        "/assets/staged_league?view=checks&checkDetail=scrape_integrity",
        ["Partitions", "CNSWPL", "Latest execution"],
        "staged_league's scrape_integrity check per league partition, CNSWPL open",
    ),
}
# The last element on the page whose own text is exactly the step's.
FIND = "[...document.querySelectorAll('body *')].filter(e => !e.children.length && e.textContent.trim() === %s).pop()"
UNFINISHED = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "MANAGED"]
LAUNCH = """mutation L($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUNS = "query R($f: RunsFilter) { runsOrError(filter: $f) { ... on Runs { results { runId jobName status } } } }"
LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"


def admin_sql(admin_url: str, statement: str) -> None:
    with db.connection(admin_url) as conn:
        conn.execute(statement)


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def wait_for(what: str, done, timeout: float = 300.0):
    """Poll `done()` every second until it returns something truthy (an unreachable server is a no)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if result := done():
                return result
        time.sleep(1)
    raise TimeoutError(f"gave up waiting {timeout:.0f}s for {what}")


def succeeded(port: int, count: int = 1, **run_filter) -> list[dict]:
    """The matching runs once `count` of them succeeded (empty before); a failed one is an error."""
    found = graphql(port, RUNS, {"f": run_filter})["runsOrError"]["results"]
    if any(r["status"] in ("FAILURE", "CANCELED") for r in found):
        raise RuntimeError(f"a run failed: {[(r['jobName'], r['runId'], r['status']) for r in found]}")
    return found if sum(r["status"] == "SUCCESS" for r in found) >= count else []


def idle(port: int, quiet_seconds: float = 12.0) -> bool:
    """No run queued or in progress for `quiet_seconds` (the sensors tick every 2 s)."""
    deadline = time.monotonic() + quiet_seconds
    while time.monotonic() < deadline:
        if graphql(port, RUNS, {"f": {"statuses": UNFINISHED}})["runsOrError"]["results"]:
            return False
        time.sleep(1)
    return True


def start_server(env: dict, port: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-p", str(port), "-h", "127.0.0.1"]
    with log.open("w") as out:
        server = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out, start_new_session=True)

    def loaded() -> bool:
        entries = graphql(port, LOCATIONS)["workspaceOrError"]["locationEntries"]
        return any(e["name"] == LOCATION and e["loadStatus"] == "LOADED" for e in entries)

    wait_for(f"dagster dev to load {LOCATION} (log: {log})", loaded, timeout=180)
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
    print(f"landed {', '.join(LEAGUES)}; waiting for the imports and post_import_job", flush=True)
    by_sensor = [{"key": "dagster/sensor_name", "value": "landing_sensor"}]
    wait_for("the imports by landing_sensor", lambda: succeeded(port, len(LEAGUES), tags=by_sensor))
    wait_for("post_import_job", lambda: succeeded(port, pipelineName="post_import_job"))
    wait_for("the sensors to go quiet", lambda: idle(port))
    break_availability(url)
    check_run = launch(port, "health_check_job")
    print(f"health_check_job {check_run[:8]} launched on broken availability; waiting for the repair", flush=True)
    wait_for("health_check_job", lambda: succeeded(port, runIds=[check_run]))
    after_check = [{"key": "rally/failed_run", "value": check_run}]
    wait_for("repair_job after the failed check", lambda: succeeded(port, tags=after_check))
    wait_for("the sensors to go quiet", lambda: idle(port))


class Chromium:
    """Headless Chromium on --remote-debugging-pipe: it reads commands on fd 3 and writes replies on
    fd 4, each a JSON message ended by a NUL byte."""

    def __init__(self, executable: str, profile: Path):
        commands, self._send = os.pipe()
        self._receive, replies = os.pipe()

        def wire() -> None:  # in the child, before exec
            for fd, number in ((commands, 3), (replies, 4)):
                os.dup2(fd, number)
                os.set_inheritable(number, True)  # dup2 onto itself leaves close-on-exec

        cmd = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"]
        quiet = subprocess.DEVNULL
        self.process = subprocess.Popen(cmd, preexec_fn=wire, close_fds=False, stdout=quiet, stderr=quiet)
        os.close(commands)
        os.close(replies)
        self._buffer, self._last_id, self.session = b"", 0, None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def call(self, method: str, **params) -> dict:
        """Send one command (to the page, once attached) and return its result."""
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._send, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                if not select.select([self._receive], [], [], 60)[0]:
                    raise TimeoutError(f"chromium did not answer {method} in 60s")
                if not (chunk := os.read(self._receive, 1 << 20)):
                    raise RuntimeError(f"chromium exited during {method}")
                self._buffer += chunk
            raw, _, self._buffer = self._buffer.partition(b"\0")
            if (reply := json.loads(raw)).get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"chromium {method}: {reply['error'].get('message')}")
                return reply.get("result", {})

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def photograph(self, url: str, steps: list[str], target: Path) -> None:
        self.call("Emulation.setDeviceMetricsOverride", **VIEWPORT)
        self.call("Page.navigate", url=url)
        for number, text in enumerate(steps, 1):
            element = FIND % json.dumps(text)
            wait_for(f"{text!r} on {url}", lambda element=element: self.evaluate(f"!!{element}"), timeout=60)
            if number < len(steps):
                time.sleep(1)  # the rest of that tab or list renders: the last match is the one to click
                self.evaluate(f"{element}.click()")
        time.sleep(2)  # the graph's layout and zoom, a table's last rows
        target.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._send)
        os.close(self._receive)


def shoot(browser: Chromium, port: int, out: Path) -> None:
    groups = {node["groupName"] for node in graphql(port, "{ assetNodes { groupName } }")["assetNodes"]}
    expanded = ",".join(f"global@global:{group}" for group in sorted(groups))
    for name, (page, steps, what) in PAGES.items():
        browser.photograph(f"http://127.0.0.1:{port}{page.format(groups=expanded)}", steps, out / name)
        print(f"wrote {out / name}: {what}", flush=True)


def server_env(url: str, tmp: Path) -> dict:
    env = {**os.environ, "RALLY_DATABASE_URL": url, "RALLY_HOME": str(tmp / "rally")}
    env |= {"RALLY_LANDING_DIR": str(tmp / "landing"), "DAGSTER_HOME": str(tmp / "dagster")}
    env |= {"RALLY_LANDING_SETTLE_SECONDS": "1", "RALLY_SENSOR_INTERVAL_SECONDS": "2"}
    for key in ("RALLY_HOME", "RALLY_LANDING_DIR", "DAGSTER_HOME"):
        Path(env[key]).mkdir(parents=True)
    (tmp / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
    return env


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        sys.exit("no chromium or chromium-browser on the PATH: install the Debian package `chromium`")
    name = f"rally_shots_{uuid.uuid4().hex[:8]}"
    admin_sql(args.database_url, f'CREATE DATABASE "{name}"')
    stack.callback(admin_sql, args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    url = with_dbname(args.database_url, name)
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rally_shots_")))
    env = server_env(url, tmp)
    init = [sys.executable, "-m", "rally_assets.cli", "init-db"]
    subprocess.run(init, env=env, cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    print(f"database {name}; starting dagster dev on port {port}", flush=True)
    log = tmp / "dagster-dev.log"
    stack.callback(stop_server, start_server(env, port, log))
    try:
        story(port, url, args.data, Path(env["RALLY_LANDING_DIR"]))
    except BaseException:
        sys.stderr.write(f"--- the end of the dagster dev log:\n{log.read_text()[-4000:]}\n")
        raise
    args.out.mkdir(parents=True, exist_ok=True)
    browser = Chromium(executable, tmp / "chromium")
    stack.callback(browser.close)
    shoot(browser, port, args.out)


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
    print(f"done in {time.monotonic() - started:.0f}s; server stopped, database dropped, temporary folders removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
