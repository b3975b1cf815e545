"""player_history.json: each player's past matches, one row per dated entry (not per record)."""

from __future__ import annotations

import pandas as pd

from rally_assets.core.parsing.normalize import collapse_spaces, parse_count, parse_number
from rally_assets.core.parsing.reading import MAX_YEAR, MIN_YEAR
from rally_assets.core.parsing.rows import FileRows, league_mismatch, parse_dates


def parse_player_history(rows: FileRows, league: str, known_player_ids: set[str]) -> pd.DataFrame:
    """The entries of the kept records, one row each (not one per record: see FileType.per_row).

    A record of a player the roster does not hold is set aside (listed with its reason, never judged
    as unusable: it holds back nothing). A record with no matches is a player without history: kept,
    counted, with no entries and no career numbers. The career wins and losses per player id ride
    along in the result's attrs["career"] (see add_career).
    """
    rows.reject_wrong_types({"player_id": (str,), "matches": (list,)})
    rows.reject_long_text()
    rows.reject_nul_characters()
    pid = rows.text("player_id")
    rows.reject(pid.isna() | (pid == ""), "missing_player_id", "player_id")
    rows.reject(pid.str.startswith("FALLBACK_", na=False), "fallback_id", "player_id", pid)
    league_mismatch(rows, "league_id", league)
    matches = rows.col("matches")  # a list (wrong types are rejected above), or absent: no history
    for key in ("wins", "losses"):
        raw = rows.col(key)
        parsed = raw.map(parse_count)
        given = pd.Series(
            [v not in (None, "") and not (isinstance(v, float) and v != v) for v in raw.tolist()],
            index=raw.index,
            dtype=bool,
        )
        rows.reject(given & parsed.isna(), "invalid_number", key, raw)
        rows.reject(parsed < 0, "negative_count", key, raw)
    rows.fold_exact_repeats()
    rows.set_aside(~pid.isin(known_player_ids), "unknown_player", "player_id", pid)
    kept = rows.kept()
    has_history = kept & matches.map(lambda m: isinstance(m, list) and len(m) > 0)
    rows.note("records_without_history", int((kept & ~has_history).sum()))
    career = {
        p: (parse_count(w), parse_count(lo))
        for p, w, lo in zip(pid[has_history], rows.col("wins")[has_history], rows.col("losses")[has_history])
    }
    result = _entries(rows, pid[kept], matches[kept])
    result.attrs["career"] = career  # career wins/losses per player id, for the players rows
    return result


def _entries(rows: FileRows, pid: pd.Series, matches: pd.Series) -> pd.DataFrame:
    """The dated entries of the kept records; an entry without a valid date is counted, not kept."""
    entries = [
        {"row_number": row, "tenniscores_player_id": p, "entry": i + 1, **(e if isinstance(e, dict) else {})}
        for row, p, ms in zip(pid.index, pid, matches)
        for i, e in enumerate(ms if isinstance(ms, list) else [])
    ]
    frame = pd.DataFrame(entries, columns=["row_number", "tenniscores_player_id", "entry", "date", "end_pti", "series"])
    date = parse_dates(frame["date"].map(lambda v: v if isinstance(v, str) else None), ["%m/%d/%Y", "%Y-%m-%d"])
    ok = date.notna() & date.dt.year.between(MIN_YEAR, MAX_YEAR)
    rows.report.notes["entries_read"] = len(frame)
    rows.report.notes["entries_accepted"] = int(ok.sum())
    if (~ok).any():
        rows.report.notes["entries_rejected_invalid_date"] = int((~ok).sum())
    return pd.DataFrame(
        {
            "row_number": frame["row_number"][ok],
            "tenniscores_player_id": frame["tenniscores_player_id"][ok],
            "series": frame["series"][ok].map(lambda v: collapse_spaces(v)[:255] if isinstance(v, str) else None),
            "date": date[ok].dt.date,
            "end_pti": frame["end_pti"][ok].map(parse_number),
        }
    ).reset_index(drop=True)


def add_career(players: pd.DataFrame, history: pd.DataFrame) -> None:
    """The career wins and losses player_history.json states, on the players rows (in place; NA if none)."""
    career = history.attrs.get("career", {})
    players["career_wins"] = pd.array(
        [career.get(p, (None, None))[0] for p in players["tenniscores_player_id"]], dtype="Int64"
    )
    players["career_losses"] = pd.array(
        [career.get(p, (None, None))[1] for p in players["tenniscores_player_id"]], dtype="Int64"
    )
