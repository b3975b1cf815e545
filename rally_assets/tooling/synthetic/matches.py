"""The matches: line scores for match_history.json, and the season totals of series_stats.json."""

from __future__ import annotations

import datetime as dt
import random

from rally_assets.tooling.synthetic.styles import APTA, NSTF, STYLE_SPECS, Series, Team, _dmy, _pct, _tenniscores_id


def _set_score(rng: random.Random, home_won: bool) -> str:
    r = rng.random()
    if r < 0.75:
        w, l, tb = 6, rng.randint(0, 4), None
    elif r < 0.87:
        w, l, tb = 7, 5, None
    else:
        lost_points = rng.randint(0, 8)
        w, l, tb = 7, 6, (max(7, lost_points + 2), lost_points)
    if home_won:
        return f"{w}-{l}" + (f" [{tb[0]}-{tb[1]}]" if tb else "")
    return f"{l}-{w}" + (f" [{tb[1]}-{tb[0]}]" if tb else "")


def _score(rng: random.Random, home_won: bool, tiebreak_share: float) -> str:
    """'6-3, 6-1' / '6-7 [5-7], 6-4, 10-8', always written from the home side."""
    if rng.random() < 0.65:
        return f"{_set_score(rng, home_won)}, {_set_score(rng, home_won)}"
    first_won = rng.random() < 0.5  # the winner drops the first or the second set
    sets = [_set_score(rng, home_won == first_won), _set_score(rng, home_won != first_won)]
    if rng.random() < tiebreak_share:
        lost_points = rng.randint(0, 11)
        w, l = max(10, lost_points + 2), lost_points
        sets.append(f"{w}-{l}" if home_won else f"{l}-{w}")
    else:
        sets.append(_set_score(rng, home_won))
    return ", ".join(sets)


def _line_home_win_p(host: Team, visitor: Team) -> float:
    return min(0.85, max(0.15, 0.52 + 0.4 * (host.strength - visitor.strength)))


def _match_rows(
    style: str, code: str, seed: int, entries, people: list[dict], target: int, rng: random.Random
) -> list[dict]:
    """Lines of the first scheduled matches until about `target` rows (an early-season scrape)."""
    spec = STYLE_SPECS[style]
    rows = []
    for m_index, (day, _si, _row, host, visitor) in enumerate(entries):
        if len(rows) >= target:
            break
        if host.is_bye or visitor.is_bye:
            continue
        lines = min(spec.lines, len(host.roster) // 2, len(visitor.roster) // 2)
        home_ps, away_ps = rng.sample(host.roster, 2 * lines), rng.sample(visitor.roster, 2 * lines)
        p = _line_home_win_p(host, visitor)
        match_id = _tenniscores_id(seed, code, "match", m_index)
        for line in range(lines):
            home_won = rng.random() < p
            h1, h2 = people[home_ps[2 * line]], people[home_ps[2 * line + 1]]
            a1, a2 = people[away_ps[2 * line]], people[away_ps[2 * line + 1]]
            score = _score(rng, home_won, spec.third_set_tiebreak)
            rows.append(_line_row(style, code, match_id, line, day, host, visitor, (h1, h2, a1, a2), score, home_won))
    _add_null_slots(style, rows, rng)
    return rows


def _line_row(
    style: str,
    code: str,
    match_id: str,
    line: int,
    day: dt.date,
    host: Team,
    visitor: Team,
    players: tuple[dict, dict, dict, dict],
    score: str,
    home_won: bool,
) -> dict:
    """One line of a team match in the league's match_history schema (home pair first, then away)."""
    h1, h2, a1, a2 = players
    names = [f"{x['first']} {x['last']}" for x in players]
    winner = "home" if home_won else "away"
    if style == APTA:  # schema M2 (8763431c): match_id + Line, names before ids
        return {
            "league_id": code,
            "match_id": f"{match_id}_Line{line + 1}",
            "source_league": code,
            "Line": f"Line {line + 1}",
            "Date": _dmy(day),
            "Home Team": host.name,
            "Away Team": visitor.name,
            "Home Player 1": names[0],
            "Home Player 2": names[1],
            "Home Player 1 ID": h1["id"],
            "Home Player 2 ID": h2["id"],
            "Away Player 1": names[2],
            "Away Player 2": names[3],
            "Away Player 1 ID": a1["id"],
            "Away Player 2 ID": a2["id"],
            "Scores": score,
            "Winner": winner,
        }
    # schema M1 (f88046f0): no match_id, no Line
    return {
        "league_id": code,
        "Date": _dmy(day),
        "Home Team": host.name,
        "Away Team": visitor.name,
        "Home Player 1": names[0],
        "Home Player 1 ID": h1["id"],
        "Home Player 2": names[1],
        "Home Player 2 ID": h2["id"],
        "Away Player 1": names[2],
        "Away Player 1 ID": a1["id"],
        "Away Player 2": names[3],
        "Away Player 2 ID": a2["id"],
        "Scores": score,
        "Winner": winner,
    }


def _add_null_slots(style: str, rows: list[dict], rng: random.Random) -> None:
    """A few null id slots, named as the real files do: 'Elissa BrebachBy Default', '' or unchanged."""
    if not rows:
        return
    slots = ("Home Player 1", "Home Player 2", "Away Player 1", "Away Player 2")
    for i in rng.sample(range(len(rows)), min(len(rows), max(2, len(rows) // 80))):
        slot = rng.choice(slots)
        rows[i][f"{slot} ID"] = None
        kind = rng.random()
        if style == NSTF and kind < 0.5:
            rows[i][slot] = ""
        elif kind < 0.75:
            rows[i][slot] += rng.choice(("By Default", "By Forfeit"))


# --- series_stats ------------------------------------------------------------------------------


def _stats_rows(style: str, code: str, series: list[Series], entries, rng: random.Random) -> list[dict]:
    """Season totals from a cheap line-by-line simulation of every scheduled match."""
    lines = STYLE_SPECS[style].lines
    acc = {id(t): [0] * 9 for s in series for t in s.teams}  # matches w/l/t, lines w/l, sets w/l, games w/l
    for _day, _si, _row, host, visitor in entries:
        if host.is_bye or visitor.is_bye:
            continue
        p = _line_home_win_p(host, visitor)
        h, a = acc[id(host)], acc[id(visitor)]
        home_lines = 0
        for _ in range(lines):
            home_won = rng.random() < p
            home_lines += home_won
            win, lose = (h, a) if home_won else (a, h)
            dropped_set = rng.random() < 0.3
            v = rng.random()
            win[3] += 1
            lose[4] += 1
            win[5] += 2
            lose[6] += 2
            if dropped_set:
                lose[5] += 1
                win[6] += 1
            win[7] += 12 + int(v * 4) + (4 if dropped_set else 0)
            lose[8] += 12 + int(v * 4) + (4 if dropped_set else 0)
            lose[7] += 3 + int(v * 6) + (6 if dropped_set else 0)
            win[8] += 3 + int(v * 6) + (6 if dropped_set else 0)
        away_lines = lines - home_lines
        if home_lines == away_lines and rng.random() < 0.1:  # even lines are mostly settled on sets
            h[2] += 1
            a[2] += 1
        else:
            home_won = home_lines > away_lines or (home_lines == away_lines and rng.random() < p)
            win, lose = (h, a) if home_won else (a, h)
            win[0] += 1
            lose[1] += 1
    rows = []
    for s in series:
        for team in s.teams:
            mw, ml, mt, lw, ll, sw, sl, gw, gl = acc[id(team)]
            rows.append(
                {
                    "series": s.stats_label,
                    "team": team.stats_name,
                    "league_id": code,
                    "points": lw * 3 + mw,
                    "matches": {"won": mw, "lost": ml, "tied": mt, "percentage": _pct(mw, mw + ml + mt)},
                    "lines": {"won": lw, "lost": ll, "for": 0, "ret": 0, "percentage": _pct(lw, lw + ll)},
                    "sets": {"won": sw, "lost": sl, "percentage": _pct(sw, sw + sl)},
                    "games": {"won": gw, "lost": gl, "percentage": _pct(gw, gw + gl)},
                }
            )
    return rows
