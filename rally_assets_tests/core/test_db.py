"""The embedded default: started on first use, shared by concurrent processes, stopped on request."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rally_assets.core import db
from rally_assets.core.errors import DatabaseUnavailable

PROBE = (
    "from rally_assets.core import db; import psycopg; url = db.embedded_server_url(); "
    "c = psycopg.connect(url); print(url, c.execute('select pg_postmaster_start_time()').fetchone()[0])"
)


def test_two_processes_share_one_embedded_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RALLY_DATABASE_URL"}
    env["RALLY_HOME"] = str(tmp_path / "home")
    procs = [
        subprocess.Popen([sys.executable, "-c", PROBE], env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
        assert all(p.returncode == 0 for p in procs), outputs
        assert outputs[0] == outputs[1]  # same socket URL, same server start time: one server
    finally:
        subprocess.run([sys.executable, "-m", "rally_assets.cli", "stop-db"], env=env, check=True, capture_output=True)


def test_a_wrong_url_is_one_clear_line():
    with pytest.raises(DatabaseUnavailable) as info:
        db.connect("postgresql://rally:hunter2@127.0.0.1:1/rally")
    message = str(info.value)
    assert "cannot connect" in message and "hunter2" not in message and "\n" not in message
