"""Teams: one row per real team, whatever file names it; the rows left without one; the schedule's
home/away orientation, which the teams' clubs decide."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from rally_assets.core.parsing.normalize import club_from_team_name, series_from_team_name, team_key
from rally_assets.core.parsing.rows import on_text

TEAM_COLUMNS = ["team_key", "team_name", "club", "series", "series_source"]
TEAMLESS_COLUMNS = ["file", "row_number", "team_name", "reason"]
# ParsedLeague frame -> its columns that name a team, in the order the teamless rows are listed
TEAM_NAMING_COLUMNS = {
    "players": ["team_name"],
    "schedule": ["home_team", "away_team"],
    "matches": ["home_team", "away_team"],
    "series_stats": ["team"],
}


def build_teams(
    players: pd.DataFrame, schedule: pd.DataFrame, matches: pd.DataFrame, stats: pd.DataFrame
) -> pd.DataFrame:
    """Every team any kept row names, with its club and series.

    The name shown is the standings' spelling when there is one; the series is the one a file
    states for the team (standings, then schedule, then roster, then match rows); the club is the
    roster's club, else the name's prefix. A team whose series no file states gets the series its
    name spells ('Hinsdale PC 1a' -> 'Series 1') only if the league's input names that series.
    """
    refs = _team_references(players, schedule, matches, stats)
    if refs.empty:
        return pd.DataFrame(columns=TEAM_COLUMNS)
    keys = on_text(refs["team_name"], team_key).tolist()
    named_series = set(refs["series"].dropna())
    teams = []
    groups = _group_references(refs, keys)
    for key in sorted(groups):
        name, stated, clubs = groups[key]
        series, source = (most_frequent(stated), "stated") if stated else (None, None)
        if series is None:
            spelled = series_from_team_name(name)
            if spelled in named_series:
                series, source = spelled, "team_name"
        club = most_frequent(clubs) if clubs else club_from_team_name(name)
        teams.append({"team_key": key, "team_name": name, "club": club, "series": series, "series_source": source})
    return pd.DataFrame(teams)


def _team_references(
    players: pd.DataFrame, schedule: pd.DataFrame, matches: pd.DataFrame, stats: pd.DataFrame
) -> pd.DataFrame:
    """Every team name a kept row gives, with the series (and club) it states and its priority."""
    refs = [
        pd.DataFrame({"team_name": stats["team"], "series": stats["series"], "club": None, "priority": 0}),
        pd.DataFrame({"team_name": schedule["home_team"], "series": schedule["series"], "club": None, "priority": 1}),
        pd.DataFrame({"team_name": schedule["away_team"], "series": schedule["series"], "club": None, "priority": 1}),
        pd.DataFrame(
            {"team_name": players["team_name"], "series": players["series"], "club": players["club"], "priority": 2}
        ),
        pd.DataFrame({"team_name": matches["home_team"], "series": matches["series"], "club": None, "priority": 3}),
        pd.DataFrame({"team_name": matches["away_team"], "series": matches["series"], "club": None, "priority": 3}),
    ]
    refs = (
        pd.concat([r for r in refs if len(r)], ignore_index=True)
        if any(len(r) for r in refs)
        else pd.DataFrame(columns=["team_name", "series", "club", "priority"])
    )
    return refs[refs["team_name"].notna()].copy()


def _group_references(refs: pd.DataFrame, keys: list) -> dict[str, tuple[object, list, list]]:
    """Per team key: the first name, the series stated and the clubs stated, in priority order."""
    # One pass in plain Python (a pandas groupby with a mode per team costs ~10x more). Same rules:
    # rows in priority order (stable), per team key in sorted order; the first name; the series
    # and the club are the most frequent stated value, the smallest one on a tie (Series.mode()).
    names, series_col, clubs_col, priority = (
        refs["team_name"].tolist(),
        refs["series"].tolist(),
        refs["club"].tolist(),
        refs["priority"].tolist(),
    )
    groups: dict[str, tuple[object, list, list]] = {}
    for i in sorted(range(len(keys)), key=priority.__getitem__):
        key = keys[i]
        if key is None:
            continue  # groupby drops a NaN key
        group = groups.get(key)
        if group is None:
            group = groups[key] = (names[i], [], [])
        if not is_missing(series_col[i]):
            group[1].append(series_col[i])
        if not is_missing(clubs_col[i]):
            group[2].append(clubs_col[i])
    return groups


def is_missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def most_frequent(values: list):
    """Series(values).mode().iloc[0]: the most frequent value, the smallest of those on a tie."""
    counts = Counter(values)
    top = max(counts.values())
    return min(v for v, n in counts.items() if n == top)


def teamless_rows(frame: pd.DataFrame, file: str, columns: list[str], teams: pd.DataFrame) -> list[dict]:
    creatable = set(teams.loc[teams["series"].notna(), "team_key"])
    unresolved_series = set(teams.loc[teams["series"].isna(), "team_key"])
    out = []
    for column in columns:
        for row, name in zip(frame["row_number"].tolist(), frame[column].tolist()):
            if name is None or pd.isna(name):
                out.append({"file": file, "row_number": row, "team_name": None, "reason": f"no team named ({column})"})
            elif (key := team_key(name)) not in creatable:
                reason = "no file states the team's series" if key in unresolved_series else "team not found"
                out.append({"file": file, "row_number": row, "team_name": name, "reason": reason})
    return out


def swap_reversed_home_away(schedule: pd.DataFrame, teams: pd.DataFrame) -> int:
    """The scraped schedule lists home/away reversed (real-data.md §2.3: the location is the away
    club's venue in ~99% of rows, and match_history agrees only after a swap). The scraper does it
    for a whole file, so the location votes once for the file: swap every row when more rows are
    hosted by the listed away club than by the listed home club. Venues that do not name a club
    ('The Birchwood Club' does, 'Lake Bluff Park District' may not) simply do not vote."""
    if schedule.empty:
        return 0
    club_of = dict(zip(teams["team_key"], teams["club"].str.lower()))

    def hosts(team, location) -> bool:
        club = club_of.get(team_key(team)) if isinstance(team, str) else None
        return bool(club and isinstance(location, str) and (club in location.lower() or location.lower() in club))

    rows = list(zip(schedule["home_team"], schedule["away_team"], schedule["location"]))
    away_hosts = sum(hosts(a, loc) and not hosts(h, loc) for h, a, loc in rows)
    home_hosts = sum(hosts(h, loc) and not hosts(a, loc) for h, a, loc in rows)
    if away_hosts <= home_hosts:
        return 0
    schedule[["home_team", "away_team"]] = schedule[["away_team", "home_team"]].values
    return len(schedule)
