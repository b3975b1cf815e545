"""A league's structure: its series, in the league's own spelling, and their teams."""

from __future__ import annotations

import random

from rally_assets.tooling.synthetic.names import CLUBS
from rally_assets.tooling.synthetic.styles import APTA, CNSWPL, NSTF, STYLE_SPECS, Series, Team


def _series_labels(style: str):
    """Endless series labels in the league's own spelling: (players, series_stats, number/tag)."""
    n = 0
    while True:
        n += 1
        if style == APTA:
            yield f"Chicago {n}", f"Chicago {n}", str(n)
            if n >= 7 and n % 2 == 1:  # real SW series are odd numbers from 7 up
                # series_stats spells SW series "Series N SW" while players say "Chicago N SW" (§2.4)
                yield f"Chicago {n} SW", f"Series {n} SW", f"{n} SW"
        elif style == CNSWPL:
            yield f"Division {n}", f"Series {n}", str(n)
        else:  # NSTF: Series 1, 2A, 2B, 3, A; then 4, 5A, 5B, 6, B; ...
            base, letter = 3 * (n - 1), chr(ord("A") + n - 1)
            for tag in (f"{base + 1}", f"{base + 2}A", f"{base + 2}B", f"{base + 3}"):
                yield f"Series {tag}", f"Series {tag}", f"S{tag}"
            yield f"Series {letter}", f"Series {letter}", f"Sunday {letter}"


def _make_teams(style: str, rng: random.Random, labels: tuple[str, str, str], n_teams: int) -> list[Team]:
    players_label, stats_label, tag = labels
    picks = rng.sample(CLUBS, n_teams)
    # A club fielding two teams in one series: CNSWPL 'Hinsdale PC 1a/1b', NSTF 'Wilmette S1 T1/T2'.
    twin = n_teams >= 7 and rng.random() < 0.3 and not (style == NSTF and tag.startswith("Sunday"))
    if twin and style != APTA:
        picks[-1] = picks[-2]
    teams = []
    for i, (club, venue) in enumerate(picks):
        second = twin and style != APTA and i >= n_teams - 2
        suffix = "ab"[i - (n_teams - 2)] if second else ""
        if style == APTA:
            name, series = f"{club} - {tag}", players_label
            sched = name
        elif style == CNSWPL:
            name, series = f"{club} {tag}{suffix}", f"{players_label}{suffix}"
            sched = f"{name} - {stats_label}"
        else:
            name = f"{club} {tag}" + (f" T{'ab'.index(suffix) + 1}" if suffix else "")
            series = players_label
            sched = f"{name} - {stats_label}"
        teams.append(Team(name, club, venue, series, stats_label, sched, name, rng.random()))
    return teams


def _plan_series(style: str, rng: random.Random, target_rows: int) -> list[Series]:
    """Add series of 6-12 teams until the rosters hold about target_rows players."""
    spec = STYLE_SPECS[style]
    lo, hi = spec.team_size
    avg = (lo + hi) / 2
    labels = _series_labels(style)
    series: list[Series] = []
    total = 0
    while total < target_rows:
        remaining = target_rows - total
        if series and remaining < lo * 3:
            break
        # shrink the last series so the league lands near its target instead of overshooting
        n_teams = min(rng.randint(6, 12), max(6, round(remaining / avg)))
        if style == APTA and not series and n_teams % 2 == 0:
            n_teams += 1 if n_teams < 12 else -1  # an odd series, so every APTA league has BYE rows
        label = next(labels)
        teams = _make_teams(style, rng, label, n_teams)
        for team in teams:
            team.roster = [-1] * rng.randint(lo, hi)  # filled with person indices below
            total += len(team.roster)
        sched_label = None if style == APTA else label[1]
        series.append(Series(label[0], label[1], sched_label, rng.choice(spec.times), teams))
    return series


def _add_double_spaces(style: str, series: list[Series], rng: random.Random) -> None:
    """NSTF writes 'Lake Forest  S1' (two spaces) in schedules and series_stats for a team or two."""
    if style != NSTF:
        return
    teams = series[0].teams
    for team in rng.sample(teams, min(len(teams), rng.randint(1, 2))):
        spaced = team.name.replace(f"{team.club} ", f"{team.club}  ", 1)
        team.stats_name = spaced
        team.sched_name = f"{spaced} - {team.stats_series}"
