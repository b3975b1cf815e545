"""The schedules: a round robin per series over the season's rounds, as schedules.json writes it."""

from __future__ import annotations

import datetime as dt
import random

from rally_assets.tooling.synthetic.styles import APTA, CNSWPL, ROUNDS, SEASON_WEEKS, STYLE_SPECS, Series, Team, _mdy


def _round_robin(entrants: list) -> list[list[tuple]]:
    """Circle method: len(entrants) - 1 rounds of pairs (entrants must be even in number)."""
    arr, m, rounds = list(entrants), len(entrants), []
    for r in range(m - 1):
        pairs = [(arr[i], arr[m - 1 - i]) for i in range(m // 2)]
        rounds.append([(b, a) if (r + i) % 2 else (a, b) for i, (a, b) in enumerate(pairs)])
        arr = [arr[0], arr[-1], *arr[1:-1]]
    return rounds


def _round_dates(style: str) -> list[dt.date]:
    """ROUNDS dates over SEASON_WEEKS weeks: 2-3 rounds a week on the league's match days."""
    spec = STYLE_SPECS[style]
    dates, per_week = [], {}
    for r in range(ROUNDS):
        week = r * SEASON_WEEKS // ROUNDS
        k = per_week[week] = per_week.get(week, -1) + 1
        dates.append(spec.season_start + dt.timedelta(weeks=week, days=spec.match_days[k % len(spec.match_days)]))
    return dates


def _schedule(style: str, code: str, series: list[Series], rng: random.Random):
    """Schedule rows plus the matches behind them, in date order.

    As in the real files, a schedule row lists the visitors as home_team and the hosts as
    away_team, and location is the hosts' club (the away_team's); match_history has it the right
    way round. About 1% of rows name the home_team's club instead.
    """
    dates = _round_dates(style)
    date_text = [_mdy(d) for d in dates]
    entries = []  # (date, series order, row, host, visitor)
    byes = 0
    for si, s in enumerate(series):
        entrants: list = list(s.teams)
        if len(entrants) % 2:
            # APTA writes some byes as matches against a 'BYE - N' team that series_stats lists too
            if style == APTA and (byes == 0 or rng.random() < 0.35):
                byes += 1
                tag = s.teams[0].name.rsplit(" - ", 1)[1]
                bye = Team(
                    f"BYE - {tag}",
                    "BYE",
                    "BYE",
                    s.players_label,
                    s.stats_label,
                    f"BYE - {tag}",
                    f"BYE - {tag}",
                    0.0,
                    is_bye=True,
                )
                s.teams.append(bye)
                entrants.append(bye)
            else:
                entrants.append(None)
        base = _round_robin(entrants)
        for r in range(ROUNDS):
            flip = (r // len(base)) % 2  # the next pass of the round robin swaps hosts
            for a, b in base[r % len(base)]:
                host, visitor = (b, a) if flip else (a, b)
                if host is None or visitor is None:
                    continue
                if host.is_bye:  # the real team hosts; BYE shows as the schedule's home_team
                    host, visitor = visitor, host
                location = host.club if style != CNSWPL else host.venue
                if not visitor.is_bye and rng.random() < 0.01:
                    location = visitor.club if style != CNSWPL else visitor.venue
                row = {
                    "date": date_text[r],
                    "time": s.time,
                    "home_team": visitor.sched_name,
                    "away_team": host.sched_name,
                    "location": location,
                }
                if s.sched_label is not None:
                    row["series"] = s.sched_label
                row["League"] = code
                entries.append((dates[r], si, row, host, visitor))
    entries.sort(key=lambda e: (e[0], e[1]))  # stable: keeps the pairing order within a series
    return entries
