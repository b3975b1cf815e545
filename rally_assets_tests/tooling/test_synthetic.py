"""The synthetic landing generator: deterministic, shaped like the real files, internally resolvable."""

from __future__ import annotations

import collections
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from rally_assets.tooling.synthetic.landing import STYLES, generate_landing
from rally_assets_tests.conftest import REAL_DATA

REAL = REAL_DATA
REAL_LEAGUE = {"APTA": "APTA_CHICAGO", "CNSWPL": "CNSWPL", "NSTF": "NSTF"}
FILES = ("players.json", "match_history.json", "schedules.json", "series_stats.json", "player_history.json")


def _load(folder: Path, name: str) -> list[dict]:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def _team(name: str) -> str:
    """What a correct ETL does to a team name: collapse whitespace, drop ' - Series X'."""
    return re.sub(r" - Series \S+$", "", re.sub(r"\s+", " ", name).strip())


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> dict[str, tuple[str, Path]]:
    """scale=1 at default size: code -> (style, folder)."""
    root = tmp_path_factory.mktemp("landing")
    codes = generate_landing(root, scale=1, seed=0)
    return {code: (STYLES[i % 3], root / code) for i, code in enumerate(codes)}


# --- determinism ---------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def test_same_arguments_give_byte_identical_files(tmp_path):
    first = generate_landing(tmp_path / "a", scale=1, seed=7, players_per_league=300)
    second = generate_landing(tmp_path / "b", scale=1, seed=7, players_per_league=300)
    assert first == second
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert len(a) == 3 * len(FILES)
    assert a == b


def test_another_seed_gives_other_content(tmp_path):
    generate_landing(tmp_path / "a", scale=1, seed=7, players_per_league=300)
    generate_landing(tmp_path / "b", scale=1, seed=8, players_per_league=300)
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[name] != b[name] for name in a)


def test_scale_adds_leagues_with_valid_codes(tmp_path):
    codes = generate_landing(tmp_path / "new" / "root", scale=2, players_per_league=200)  # root is created
    assert len(codes) == 6 and len(set(codes)) == 6
    assert codes == sorted(codes)
    assert all(re.fullmatch(r"[A-Z0-9_]+", c) for c in codes)
    for code in codes:
        assert sorted(p.name for p in (tmp_path / "new" / "root" / code).iterdir()) == sorted(FILES)


# --- shapes copied from the real files -----------------------------------------------------------


def _real_keys(league: str, name: str) -> tuple[str, ...]:
    rows = _load(REAL / "import_1" / league, name)
    # APTA schedules also hold 19 'Practice' rows with other keys; the match rows are the majority
    return collections.Counter(tuple(r) for r in rows).most_common(1)[0][0]


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real fixtures not found at {REAL}")
@pytest.mark.parametrize("name", FILES)
def test_record_keys_equal_the_real_files(landing, name):
    for code, (style, folder) in landing.items():
        real_league = REAL_LEAGUE[style]
        if not (REAL / "import_1" / real_league / name).exists():
            real_league = "APTA_CHICAGO"  # NSTF has no player_history; the schema is the same
        expected = _real_keys(real_league, name)
        rows = _load(folder, name)
        assert rows, f"{code} {name} is empty"
        for row in rows:
            assert set(row) == set(expected), (code, name, row)
            assert tuple(row) == expected, (code, name, "key order")
        if name == "players.json":  # the three real leagues share schema P1
            for other in REAL_LEAGUE.values():
                assert set(rows[0]) == set(_real_keys(other, name))


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real fixtures not found at {REAL}")
def test_nested_keys_equal_the_real_files(landing):
    real_stats = _load(REAL / "import_1" / "APTA_CHICAGO", "series_stats.json")[0]
    real_entry = _load(REAL / "import_1" / "APTA_CHICAGO", "player_history.json")[0]["matches"][0]
    for _style, folder in landing.values():
        for row in _load(folder, "series_stats.json"):
            for part in ("matches", "lines", "sets", "games"):
                assert tuple(row[part]) == tuple(real_stats[part])
        for row in _load(folder, "player_history.json"):
            assert all(tuple(entry) == tuple(real_entry) for entry in row["matches"])


# --- sizes ---------------------------------------------------------------------------------------


def test_sizes_are_realistic(landing):
    for code, (_style, folder) in landing.items():
        players = _load(folder, "players.json")
        matches = _load(folder, "match_history.json")
        schedules = _load(folder, "schedules.json")
        stats = _load(folder, "series_stats.json")
        history = _load(folder, "player_history.json")
        assert 720 <= len(players) <= 1080, code  # 900 +-20%

        team_sizes = collections.Counter(r["Series Mapping ID"] for r in players)
        assert all(8 <= n <= 16 for n in team_sizes.values()), (code, team_sizes)  # 8-12 + a few doubles
        real_teams = [r for r in stats if not r["team"].startswith("BYE")]
        assert len(real_teams) == len(team_sizes)  # one series_stats row per team
        per_series = collections.Counter(r["series"] for r in real_teams)
        assert all(6 <= n <= 12 for n in per_series.values()), (code, per_series)

        assert 0.8 <= len(matches) / (len(players) / 3) <= 1.2, code
        assert 0.8 <= len(schedules) / (1.3 * 10 * len(team_sizes)) <= 1.2, code

        ids = {r["Player ID"] for r in players}
        assert 0.07 <= len(history) / len(ids) <= 0.13, code
        assert all(5 <= len(r["matches"]) <= 30 for r in history)


# --- internal consistency ------------------------------------------------------------------------


def test_every_team_and_player_resolves(landing):
    for code, (_style, folder) in landing.items():
        players = _load(folder, "players.json")
        stats_teams = {_team(r["team"]) for r in _load(folder, "series_stats.json")}
        for row in _load(folder, "schedules.json"):
            assert _team(row["home_team"]) in stats_teams, (code, row)
            assert _team(row["away_team"]) in stats_teams, (code, row)
        ids = {r["Player ID"] for r in players}
        for row in _load(folder, "match_history.json"):
            assert _team(row["Home Team"]) in stats_teams and _team(row["Away Team"]) in stats_teams
            for slot in ("Home Player 1 ID", "Home Player 2 ID", "Away Player 1 ID", "Away Player 2 ID"):
                assert row[slot] is None or row[slot] in ids, (code, row)
        assert {r["player_id"] for r in _load(folder, "player_history.json")} <= ids
        assert {_team(r["Series Mapping ID"]) for r in players} <= stats_teams
        for name in FILES:
            key = {
                "players.json": "League",
                "schedules.json": "League",
                "player_history.json": "league_id",
                "match_history.json": "league_id",
                "series_stats.json": "league_id",
            }[name]
            assert {r[key] for r in _load(folder, name)} == {code}


def _home_sets_won(score: str) -> tuple[int, int]:
    home = away = 0
    for part in score.split(", "):
        m = re.fullmatch(r"(\d+)-(\d+)( \[(\d+)-(\d+)\])?", part)
        assert m, score
        h, a = int(m.group(1)), int(m.group(2))
        home, away = home + (h > a), away + (a > h)
    return home, away


def test_value_formats(landing):
    for _code, (_style, folder) in landing.items():
        for row in _load(folder, "players.json"):
            assert all(isinstance(v, str) for v in row.values())
            assert re.fullmatch(r"nndz-[A-Za-z0-9+/=]{16}", row["Player ID"])
            assert row["PTI"] == "N/A" or re.fullmatch(r"-?\d+\.\d", row["PTI"])
            wins, losses = int(row["Wins"]), int(row["Losses"])
            assert row["Win %"] == (f"{100 * wins / (wins + losses):.1f}%" if wins + losses else "0.0%")
            assert row["Captain"] in ("", "C", "CC")
        for row in _load(folder, "match_history.json"):
            dt.datetime.strptime(row["Date"], "%d-%b-%y")
            home, away = _home_sets_won(row["Scores"])
            assert row["Winner"] == ("home" if home > away else "away"), row
        for row in _load(folder, "schedules.json"):
            dt.datetime.strptime(row["date"], "%m/%d/%Y")
            assert re.fullmatch(r"\d\d:\d\d [ap]m", row["time"])
        for row in _load(folder, "series_stats.json"):
            m = row["matches"]
            assert row["matches"]["percentage"] == (
                f"{100 * m['won'] / (m['won'] + m['lost'] + m['tied']):.1f}%"
                if m["won"] + m["lost"] + m["tied"]
                else "0.0%"
            )
        for row in _load(folder, "player_history.json"):
            float(row["rating"])
            assert isinstance(row["wins"], int) and isinstance(row["losses"], int)
            for entry in row["matches"]:
                dt.datetime.strptime(entry["date"], "%m/%d/%Y")
                float(entry["end_pti"])


def test_style_specific_spellings(landing):
    by_style = {style: folder for style, folder in landing.values()}
    apta = _load(by_style["APTA"], "players.json")
    assert all(re.fullmatch(r"Chicago \d+( SW)?", r["Series"]) for r in apta)
    assert all(r["Series Mapping ID"] == f"{r['Club']} - {r['Series'][len('Chicago ') :]}" for r in apta)
    cnswpl = _load(by_style["CNSWPL"], "players.json")
    assert all(re.fullmatch(r"Division \d+[ab]?", r["Series"]) and r["Club"] == r["Series Mapping ID"] for r in cnswpl)
    assert all(re.fullmatch(r"Series \d+", r["series"]) for r in _load(by_style["CNSWPL"], "series_stats.json"))
    assert all(r["home_team"].endswith(" - " + r["series"]) for r in _load(by_style["CNSWPL"], "schedules.json"))
    nstf = _load(by_style["NSTF"], "players.json")
    assert {"Series 1", "Series 2A", "Series 2B", "Series 3", "Series A"} <= {r["Series"] for r in nstf}
    assert all(re.search(r" (S\d+[AB]?( T\d)?|Sunday [A-Z])$", r["Series Mapping ID"]) for r in nstf)


def test_anomalies_are_present_in_small_doses(landing):
    for code, (style, folder) in landing.items():
        players = _load(folder, "players.json")
        ids = collections.Counter(r["Player ID"] for r in players)
        doubled = [pid for pid, n in ids.items() if n > 1]
        assert 0.02 <= len(doubled) / len(ids) <= 0.08, code
        for pid in doubled:  # a second team is always in another series
            rows = [r for r in players if r["Player ID"] == pid]
            assert len({r["Series"] for r in rows}) == len(rows)
        assert 1 <= sum("\u2019" in r["Last Name"] for r in players) <= 6
        assert b"\\u2019" in (folder / "players.json").read_bytes()  # ensure_ascii, as the real files
        if style == "APTA":
            assert 0 < sum(r["PTI"] == "N/A" for r in players) < 0.1 * len(players)
        else:
            assert all(r["PTI"] == "N/A" for r in players)  # as in the real CNSWPL and NSTF files

        matches = _load(folder, "match_history.json")
        nulls = sum(v is None for r in matches for v in r.values())
        assert 1 <= nulls <= 0.02 * len(matches) * 4, code

        schedules = _load(folder, "schedules.json")
        byes = [r for r in schedules if r["home_team"].startswith("BYE - ")]
        assert bool(byes) == (style == "APTA")
        assert len(byes) <= 0.1 * len(schedules)
        spaced = [r for r in schedules if "  " in r["home_team"] + r["away_team"]]
        assert bool(spaced) == (style == "NSTF")

        if style != "CNSWPL":  # APTA/NSTF locations are clubs; CNSWPL ones are venue names
            club = {_team(r["Series Mapping ID"]): r["Club"] for r in players}
            rows = [r for r in schedules if not r["home_team"].startswith("BYE")]
            at_away = sum(r["location"] == club[_team(r["away_team"])] for r in rows)
            assert at_away >= 0.95 * len(rows)  # the schedule's away_team hosts (real-data.md §2.3)
