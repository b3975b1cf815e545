"""The people of a league, their rosters, and the players.json and player_history.json records."""

from __future__ import annotations

import datetime as dt
import random

from rally_assets.tooling.synthetic.names import APOSTROPHE_LAST, HISTORY_EVENTS, LAST_NAMES, MEN_FIRST, WOMEN_FIRST
from rally_assets.tooling.synthetic.styles import (
    CNSWPL,
    DUPLICATE_SHARE,
    HISTORY_SHARE,
    NSTF,
    SEASON_WEEKS,
    STYLE_SPECS,
    Series,
    _fmt_pti,
    _location_id,
    _mdy,
    _pct,
    _tenniscores_id,
)


def _make_people(style: str, rng: random.Random, code: str, seed: int, n: int) -> list[dict]:
    spec = STYLE_SPECS[style]
    firsts = WOMEN_FIRST if spec.women else MEN_FIRST
    people, seen = [], set()
    for i in range(n):
        pid, salt = _tenniscores_id(seed, code, "player", i), 0
        while pid in seen:  # 56-bit ids: a clash is near impossible, but ids must be unique
            salt += 1
            pid = _tenniscores_id(seed, code, "player", i, salt)
        seen.add(pid)
        if spec.numeric_pti and rng.random() >= 0.04:  # about 4% "N/A" in the real APTA file
            pti = _fmt_pti(min(97.0, max(10.0, rng.gauss(48, 15))))
        else:
            pti = "N/A"
        people.append({"id": pid, "first": rng.choice(firsts), "last": rng.choice(LAST_NAMES), "pti": pti})
    # a few U+2019 apostrophes (O’Neill): 1-5 rows per real file
    for i in rng.sample(range(n), min(n, rng.randint(2, 4))):
        people[i]["last"] = rng.choice(APOSTROPHE_LAST)
    return people


def _fill_rosters(series: list[Series], rng: random.Random) -> int:
    """Give every roster slot its own person, then roster ~5% of them on a second series."""
    n = 0
    for s in series:
        for team in s.teams:
            team.roster = list(range(n, n + len(team.roster)))
            n += len(team.roster)
    if len(series) > 1:
        home = {p: si for si, s in enumerate(series) for t in s.teams for p in t.roster}
        all_teams = [(si, t) for si, s in enumerate(series) for t in s.teams]
        for person in sorted(rng.sample(range(n), round(n * DUPLICATE_SHARE))):
            si, team = rng.choice(all_teams)
            while si == home[person]:  # real duplicates are always in another series
                si, team = rng.choice(all_teams)
            team.roster.append(person)
    return n


def _player_rows(style: str, code: str, series: list[Series], people: list[dict], rng: random.Random) -> list[dict]:
    max_played = 8 if style == NSTF else 20
    rows = []
    for s in series:
        for team in s.teams:
            co_captain = rng.random() < 0.5
            for pos, person in enumerate(team.roster):
                p = people[person]
                played = rng.randint(0, max_played) if rng.random() > 0.08 else 0
                wins = rng.randint(0, played)
                club = team.name if style == CNSWPL else team.club  # CNSWPL's Club is the team
                rows.append(
                    {
                        "League": code,
                        "Series": team.series,
                        "Series Mapping ID": team.name,
                        "Club": club,
                        "Location ID": _location_id(club),
                        "Player ID": p["id"],
                        "First Name": p["first"],
                        "Last Name": p["last"],
                        "PTI": p["pti"],
                        "Wins": str(wins),
                        "Losses": str(played - wins),
                        "Win %": _pct(wins, played),
                        "Captain": "C" if pos == 0 else "CC" if pos == 1 and co_captain else "",
                    }
                )
    return rows


def _history_rows(style: str, code: str, players: list[dict], people: list[dict], rng: random.Random) -> list[dict]:
    spec = STYLE_SPECS[style]
    first_row = {}
    for row in players:
        first_row.setdefault(row["Player ID"], row)
    events = HISTORY_EVENTS[spec.women]
    season_end = spec.season_start + dt.timedelta(weeks=SEASON_WEEKS)
    rows = []
    for person in sorted(rng.sample(range(len(people)), max(1, round(len(people) * HISTORY_SHARE)))):
        p = people[person]
        row = first_row[p["id"]]
        rating = float(p["pti"]) if p["pti"] != "N/A" else rng.uniform(-15, 65)
        pti, day, matches = rating, season_end - dt.timedelta(days=rng.randint(0, 20)), []
        for _ in range(rng.randint(5, 30)):  # newest first, as in the real file
            matches.append(
                {
                    "date": _mdy(day),
                    "end_pti": _fmt_pti(pti),
                    "series": row["Series"] if rng.random() < 0.6 else rng.choice(events),
                }
            )
            pti += rng.uniform(-1.2, 1.2)
            day -= dt.timedelta(days=rng.choice((0, 0, 1, 3, 7, 14)))
        rows.append(
            {
                "league_id": code,
                "player_id": p["id"],
                "name": f"{p['first']} {p['last']}",
                "first_name": p["first"],
                "last_name": p["last"],
                "series": row["Series"],
                "club": row["Club"],
                "rating": _fmt_pti(rating),
                "wins": rng.randint(0, 300),
                "losses": rng.randint(0, 250),
                "matches": matches,
            }
        )
    return rows
