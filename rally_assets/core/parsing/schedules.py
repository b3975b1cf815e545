"""schedules.json: the league's fixtures, one row per scheduled match of two teams."""

from __future__ import annotations

import pandas as pd

from rally_assets.core.parsing.normalize import (
    GHOST_SERIES,
    LEGENDS_SERIES,
    canonical_team_name,
    normalize_series,
    series_from_team_name,
    team_key,
)
from rally_assets.core.parsing.rows import FileRows, is_bye, league_mismatch, on_text, parse_dates, reject_bad_dates


def parse_schedules(rows: FileRows, league: str, known_player_ids: set[str]) -> pd.DataFrame:
    """One row per fixture record. known_player_ids is not used: a fixture names no player."""
    rows.reject_wrong_types({"home_team": (str,), "away_team": (str,), "date": (str,), "location": (str,)})
    rows.reject_long_text()
    rows.reject_nul_characters()
    home_raw, away_raw = rows.text("home_team"), rows.text("away_team")
    is_practice = home_raw.isna() & rows.col("Practice").notna()
    rows.reject(is_practice, "practice_stub", "home_team")
    rows.reject(home_raw.isna() | (home_raw == ""), "missing_team", "home_team")
    rows.reject(away_raw.isna() | (away_raw == ""), "missing_team", "away_team")
    rows.reject(is_bye(home_raw) | is_bye(away_raw), "bye", "home_team", home_raw + " v " + away_raw)
    home, away = on_text(home_raw, canonical_team_name), on_text(away_raw, canonical_team_name)
    rows.reject(
        home.str.startswith("-", na=False) | away.str.startswith("-", na=False), "empty_team", "home_team", home_raw
    )
    series = rows.text("series").fillna(rows.text("Series")).map(normalize_series)
    suffix_series = on_text(home_raw, lambda v: normalize_series(v.rsplit(" - ", 1)[1]) if " - Series " in v else None)
    series = series.fillna(suffix_series)
    team_series = on_text(home, series_from_team_name)
    rows.reject(
        series.isin(GHOST_SERIES) | (series.isna() & team_series.isin(GHOST_SERIES)),
        "ghost_series",
        "series",
        series.fillna(team_series),
    )
    rows.reject(series.isin(LEGENDS_SERIES) | (home == "Legends"), "legends_placeholder", "series", series)
    rows.reject(on_text(home, team_key) == on_text(away, team_key), "home_equals_away", "away_team", home)
    league_mismatch(rows, "League", league)
    raw_date = rows.text("date")
    date = parse_dates(raw_date, ["%m/%d/%Y", "%Y-%m-%d"])
    reject_bad_dates(rows, "date", date, raw_date)
    raw_time = rows.text("time")
    time = pd.to_datetime(raw_time.str.upper(), format="%I:%M %p", errors="coerce").dt.time
    rows.note("time_unparseable", int((time.isna() & raw_time.fillna("").ne("")).sum()))
    rows.fold_exact_repeats()
    return pd.DataFrame(
        {
            "row_number": rows.df.index,
            "match_date": date.dt.date,
            "match_time": time.where(time.notna(), None),
            "home_team": home,
            "away_team": away,
            "location": rows.text("location"),
            "series": series,
        },
        index=rows.df.index,
    )
