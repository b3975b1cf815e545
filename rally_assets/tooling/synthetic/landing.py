"""Deterministic synthetic landing folders that look like the real tenniscores scrapes.

`generate_landing(root, scale=...)` writes `root/<LEAGUE>/{players,match_history,schedules,
series_stats,player_history}.json` for 3 * scale leagues. Leagues take turns copying the three real
leagues' shapes (real-data.md §2): APTA_CHICAGO, CNSWPL and NSTF as in `rally_real/import_1`.

Design rules:
- One `random.Random` per league, seeded from (seed, league code): a league's files do not depend
  on `scale`, and the same arguments give byte-identical files.
- IDs come from hashlib, not from `random`, so they stay stable and unique per league.
- Every team name is consistent across files once whitespace is collapsed and a trailing
  " - Series X" is stripped, so a correct ETL resolves every team. Only the anomalies listed in
  `_add_*` / the comments of the modules below are injected, each in a small, fixed share.
- The modules: `styles` (the three league styles, the season, Team and Series, small helpers),
  `names`, `teams` (series and teams), `players` (people, players.json, player_history.json),
  `fixtures` (schedules.json), `matches` (match_history.json, series_stats.json); here the entry points.
- Plain lists and dicts (no pandas): 300 leagues must be cheap to write.
"""

from __future__ import annotations

import json
import pathlib
import random

from rally_assets.tooling.synthetic.fixtures import _schedule
from rally_assets.tooling.synthetic.matches import _match_rows, _stats_rows
from rally_assets.tooling.synthetic.players import _fill_rosters, _history_rows, _make_people, _player_rows
from rally_assets.tooling.synthetic.styles import DUPLICATE_SHARE, STYLES, league_code
from rally_assets.tooling.synthetic.teams import _add_double_spaces, _plan_series

__all__ = ["STYLES", "build_league", "generate_landing", "league_code"]

# --- entry points ------------------------------------------------------------------------------


def build_league(code: str, style: str, *, seed: int = 0, players_per_league: int = 900) -> dict[str, list[dict]]:
    """All five record lists of one league, keyed by landing file name."""
    rng = random.Random(f"{seed}:{code}")  # per league, so a league does not depend on scale
    base_rows = max(1, round(players_per_league / (1 + DUPLICATE_SHARE)))
    series = _plan_series(style, rng, base_rows)
    n_people = _fill_rosters(series, rng)
    people = _make_people(style, rng, code, seed, n_people)
    players = _player_rows(style, code, series, people, rng)
    _add_double_spaces(style, series, rng)
    entries = _schedule(style, code, series, rng)  # may add BYE teams, so before the stats
    return {
        "players.json": players,
        "match_history.json": _match_rows(style, code, seed, entries, people, round(len(players) / 3), rng),
        "schedules.json": [e[2] for e in entries],
        "series_stats.json": _stats_rows(style, code, series, entries, rng),
        "player_history.json": _history_rows(style, code, players, people, rng),
    }


def generate_landing(root: pathlib.Path, *, scale: int = 1, seed: int = 0, players_per_league: int = 900) -> list[str]:
    """Write league folders under root; return the league codes written (sorted)."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    root = pathlib.Path(root)
    root.mkdir(parents=True, exist_ok=True)
    codes = []
    for i in range(3 * scale):
        code = league_code(i)
        folder = root / code
        folder.mkdir(exist_ok=True)
        for name, records in build_league(
            code, STYLES[i % 3], seed=seed, players_per_league=players_per_league
        ).items():
            # same bytes as json.dump(records, f, indent=2, ensure_ascii=True), in one write
            (folder / name).write_text(json.dumps(records, indent=2, ensure_ascii=True), encoding="ascii")
        codes.append(code)
    return sorted(codes)
