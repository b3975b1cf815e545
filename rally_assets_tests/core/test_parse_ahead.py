"""Leagues parsed ahead in worker processes give exactly the frames of a direct parse, and a league
whose files are broken raises the direct parse's error (file, row, field), not a worker's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from rally_assets.core.errors import InputError
from rally_assets.core.parsing import ahead
from rally_assets.core.parsing.league import parse_league
from rally_assets_tests.conftest import IMPORT_1, requires_real_data

pytestmark = requires_real_data


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: nothing is parsed ahead")
def test_parsed_ahead_equals_a_direct_parse(tmp_path):
    landing = tmp_path / "landing"
    for league in ("NSTF", "CNSWPL"):
        shutil.copytree(IMPORT_1 / league, landing / league)
    folders = sorted(landing.iterdir())
    assert ahead.parse_ahead(folders, landing_root=landing) == 2
    try:
        for folder in folders:
            direct = parse_league(folder, landing_root=landing)
            early = ahead.parsed(folder, landing_root=landing)
            assert (early.league, early.fingerprint) == (direct.league, direct.fingerprint)
            for frame in ("players", "teams", "matches", "schedule", "series_stats", "rejections"):
                assert getattr(early, frame).equals(getattr(direct, frame)), frame
            assert {n: r.accepted for n, r in early.reports.items()} == {
                n: r.accepted for n, r in direct.reports.items()
            }
    finally:
        ahead.forget()


def test_a_broken_league_parsed_ahead_raises_the_direct_error(tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(IMPORT_1 / "NSTF", landing / "NSTF")
    (landing / "CNSWPL").mkdir()
    (landing / "CNSWPL" / "players.json").write_text('[{"Player ID": "nndz-1",')  # truncated
    ahead.parse_ahead(sorted(landing.iterdir()), landing_root=landing)
    try:
        with pytest.raises(InputError) as raised:
            ahead.parsed(landing / "CNSWPL", landing_root=landing)
        assert "CNSWPL/players.json" in str(raised.value) and "not valid JSON" in str(raised.value)
        assert ahead.parsed(landing / "NSTF", landing_root=landing).league == "NSTF"
    finally:
        ahead.forget()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: nothing is parsed ahead")
def test_a_broken_league_beside_others_never_hangs_the_process(tmp_path):
    """A worker's error once reached this process as an exception it could not unpickle: the pool broke,
    the pool's SIGTERM to the other workers became an exception in them (a process that loaded Dagster
    handles SIGTERM: so do its forked workers), they blocked on their pipes, and the process hung at exit."""
    landing = tmp_path / "landing"
    (landing / "APTA_CHICAGO").mkdir(parents=True)
    (landing / "APTA_CHICAGO" / "players.json").write_text('[{"Player ID": "nndz-1",')  # truncated
    for league in ("NSTF", "CNSWPL"):
        shutil.copytree(IMPORT_1 / league, landing / league)
    script = (
        "import signal; from pathlib import Path; from rally_assets.core.parsing import ahead\n"
        "def interrupt(*_):\n    raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGTERM, interrupt)  # as Dagster's runs do\n"
        f"landing = Path({str(landing)!r}); folders = sorted(landing.iterdir())\n"
        "assert ahead.parse_ahead(folders, landing_root=landing) == 3\n"
        "try:\n    ahead.parsed(folders[0], landing_root=landing)\nexcept Exception as exc:\n    print(exc)\n"
        "ahead.forget()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "APTA_CHICAGO/players.json" in done.stdout and "not valid JSON" in done.stdout


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: nothing is parsed ahead")
def test_at_most_one_league_per_core_is_parsed_ahead_at_a_time(tmp_path):
    """Frames wait in this process until their league is imported: a big landing must not hold them all."""
    landing = tmp_path / "landing"
    names = [f"L{i:02d}" for i in range(6)]
    for name in names:
        shutil.copytree(IMPORT_1 / "NSTF", landing / name)
    folders = [landing / name for name in names]
    try:
        assert ahead.parse_ahead(folders, landing_root=landing) == 6
        workers = min(6, os.cpu_count() or 1)
        assert len(ahead._pending) == workers and len(ahead._queued) == 6 - workers
        for i, folder in enumerate(folders):
            assert ahead.parsed(folder, landing_root=landing).folder.endswith(folder.name)
            assert len(ahead._pending) == min(workers, 5 - i)  # each one taken starts the next
        assert ahead._pool is None  # every parse taken: the workers are gone
    finally:
        ahead.forget()
