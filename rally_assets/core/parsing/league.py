"""Read one league folder into normalised pandas frames, with a parse report per file.

Nothing here touches the database. Every row that is not kept is counted with a reason (and
listed in `rejections` with its file, row and field); every kept row that ends up without a
team is listed in `teamless` with the reason. A file that cannot be read at all raises
InputError naming the file (and the row and field where there is one).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rally_assets.core.constants import LANDING_FILES
from rally_assets.core.errors import InputError
from rally_assets.core.parsing.normalize import (
    GHOST_SERIES,
    LEGENDS_SERIES,
    canonical_team_name,
    club_from_team_name,
    collapse_spaces,
    normalize_captain,
    normalize_score,
    normalize_series,
    parse_count,
    parse_number,
    series_from_team_name,
    team_key,
)

LEAGUE_CODE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
MAX_TEXT = 255  # the width of the name columns (varchar(255)); longer is scraper garbage or an attack
MIN_YEAR, MAX_YEAR = 1990, 2100
PTI_LIMIT, WIN_PCT_LIMIT = 1e8, 1000.0  # players.pti numeric(10,2), win_percentage numeric(5,2)

REJECTION_COLUMNS = ["file", "row_number", "field", "reason", "detail"]
TEAMLESS_COLUMNS = ["file", "row_number", "team_name", "reason"]


@dataclass
class FileReport:
    file: str
    present: bool = True
    rows_read: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)  # repairs applied to kept rows

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "present": self.present,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": sum(self.rejected.values()),
            "notes": dict(sorted(self.notes.items())),
        }


@dataclass
class ParsedLeague:
    league: str
    folder: str
    fingerprint: str
    players: pd.DataFrame
    teams: pd.DataFrame
    matches: pd.DataFrame
    schedule: pd.DataFrame
    series_stats: pd.DataFrame
    player_history: pd.DataFrame
    reports: dict[str, FileReport]
    rejections: pd.DataFrame
    teamless: pd.DataFrame

    @property
    def series(self) -> list[str]:
        return sorted(
            self.teams["series"].dropna().unique().tolist() + self.players["series"].dropna().unique().tolist()
        )

    def summary(self) -> dict:
        return {name: report.as_dict() for name, report in self.reports.items()}


# --- reading -----------------------------------------------------------------------------------


def league_code(folder: Path) -> str:
    if not LEAGUE_CODE.match(folder.name):
        raise InputError(
            str(folder), "a league folder name must be 1-64 letters, digits or underscores (it becomes the league id)"
        )
    return folder.name.upper()


def _read_json_array(path: Path, landing_root: Path | None) -> tuple[list, bytes]:
    name = str(path)
    if landing_root is not None:
        real = path.resolve()
        if not real.is_relative_to(landing_root.resolve()):
            raise InputError(
                name, f"resolves to {real}, outside the landing folder {landing_root}; refusing to read it"
            )
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data_text_bytes = data[3:]  # a UTF-8 byte-order mark carries no data
    else:
        data_text_bytes = data
    try:
        text = data_text_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            name, f"is not valid UTF-8 (byte {exc.start}: {data_text_bytes[exc.start : exc.start + 1]!r})"
        ) from exc
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(name, f"is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from exc
    except RecursionError as exc:
        raise InputError(name, "is nested too deeply to be a league file") from exc
    if not isinstance(records, list):
        raise InputError(name, f"must hold a JSON array of records, found a {type(records).__name__}")
    return records, data


def _apply(values: pd.Series, fn) -> pd.Series:
    """fn on the non-empty strings of a column; None elsewhere (pandas 3 turns None into NaN)."""
    # .tolist(): iterating a pandas Series element by element costs more than fn itself.
    return pd.Series(
        [fn(v) if isinstance(v, str) and v else None for v in values.tolist()], index=values.index, dtype="object"
    )


class _Rows:
    """One file's records as a frame plus the bookkeeping of which rows are rejected and why."""

    def __init__(self, file: str, records: list):
        self.file = file
        self.report = FileReport(file=file, rows_read=len(records))
        is_obj = [isinstance(r, dict) for r in records]
        objects = [r for r in records if isinstance(r, dict)]
        self.records = objects
        self.df = pd.DataFrame.from_records(objects) if objects else pd.DataFrame()
        self.df.index = pd.Index([i + 1 for i, ok in enumerate(is_obj) if ok], name="row_number")
        self.reason = pd.Series(pd.NA, index=self.df.index, dtype="object")
        self.field = pd.Series(pd.NA, index=self.df.index, dtype="object")
        self.detail = pd.Series(pd.NA, index=self.df.index, dtype="object")
        self._open = np.ones(
            len(self.df.index), dtype=bool
        )  # reason.isna(), kept as an array: reject() runs ~70 times a file
        self._rejections = [
            {"file": file, "row_number": i + 1, "field": None, "reason": "not_an_object", "detail": type(r).__name__}
            for i, r in enumerate(records)
            if not isinstance(r, dict)
        ]
        if self._rejections:
            self.report.rejected["not_an_object"] = len(self._rejections)

    def col(self, key: str) -> pd.Series:
        if key in self.df.columns:
            return self.df[key]
        return pd.Series(None, index=self.df.index, dtype="object")

    def text(self, key: str) -> pd.Series:
        """Strings with whitespace collapsed; None for absent, null or non-string values."""
        if key not in self.df.columns:
            return pd.Series([None] * len(self.df.index), index=self.df.index, dtype="object")
        # " ".join(v.split()) is collapse_spaces(v), inlined: this is the hottest loop of a parse.
        return pd.Series(
            [" ".join(v.split()) if isinstance(v, str) else None for v in self.df[key].tolist()],
            index=self.df.index,
            dtype="object",
        )

    def reject(self, mask: pd.Series, reason: str, field: str | None = None, detail: pd.Series | None = None) -> None:
        if mask.index is self.df.index or mask.index.equals(self.df.index):
            # Same rows in the same order: decide on plain arrays (most calls reject nothing).
            hits = mask.to_numpy(dtype=bool, na_value=False) & self._open
            if not hits.any():
                return
            mask = pd.Series(hits, index=self.reason.index)
        else:
            mask = mask.fillna(False).astype(bool) & self.reason.isna()
            if not mask.any():
                return
        self.reason[mask] = reason
        self.field[mask] = field
        if detail is not None:
            self.detail[mask] = detail[mask].astype(str).str.slice(0, 200)
        self._open = self.reason.isna().to_numpy()

    def reject_wrong_types(self, keys: dict[str, tuple[type, ...]]) -> None:
        for key, types in keys.items():
            if key not in self.df.columns:
                continue  # an absent column holds no value of a wrong type
            values = self.df[key]
            # A plain loop first (no pandas per-element overhead); the detail only for a file that has one.
            bad = [
                v is not None and not (isinstance(v, float) and v != v) and not isinstance(v, types)
                for v in values.tolist()
            ]
            if any(bad):
                self.reject(
                    pd.Series(bad, index=values.index, dtype=bool),
                    "wrong_type",
                    key,
                    values.map(lambda v: type(v).__name__),
                )

    def reject_long_text(self) -> None:
        for key in self.df.columns:
            values = self.df[key]
            long = [isinstance(v, str) and len(v) > MAX_TEXT for v in values.tolist()]
            if any(long):
                self.reject(
                    pd.Series(long, index=values.index, dtype=bool),
                    "value_too_long",
                    key,
                    values.map(lambda v: f"{len(v)} characters" if isinstance(v, str) else ""),
                )

    def reject_nul_characters(self) -> None:
        """PostgreSQL text cannot hold U+0000: such a value is quarantined here, not failed at COPY."""
        for key in self.df.columns:
            values = self.df[key]
            nul = [isinstance(v, str) and "\x00" in v for v in values.tolist()]
            if any(nul):
                self.reject(pd.Series(nul, index=values.index, dtype=bool), "nul_character", key)

    def reject_exact_duplicates(self) -> None:
        as_text = pd.Series([json.dumps(r, sort_keys=True, default=str) for r in self.records], index=self.df.index)
        self.reject(as_text.duplicated(), "duplicate_record")

    def note(self, name: str, count: int) -> None:
        if count:
            self.report.notes[name] = self.report.notes.get(name, 0) + int(count)

    def kept(self) -> pd.Series:
        return self.reason.isna()

    def finish(self) -> pd.DataFrame:
        """Close the report; return the rejections of this file."""
        if self._open.all() and not self._rejections:  # nothing rejected: the empty frame, without building it
            self.report.accepted = len(self._open)
            return pd.DataFrame(columns=REJECTION_COLUMNS)
        counts = Counter(self.reason.dropna())
        for reason, n in counts.items():
            self.report.rejected[reason] = self.report.rejected.get(reason, 0) + n
        self.report.accepted = int(self.kept().sum())
        rejected = pd.DataFrame(
            {
                "file": self.file,
                "row_number": self.reason.index[self.reason.notna()],
                "field": self.field[self.reason.notna()].values,
                "reason": self.reason.dropna().values,
                "detail": self.detail[self.reason.notna()].values,
            }
        )
        extra = pd.DataFrame(self._rejections, columns=REJECTION_COLUMNS)
        return (
            pd.concat([d for d in (extra, rejected) if len(d)], ignore_index=True)
            if len(extra) or len(rejected)
            else pd.DataFrame(columns=REJECTION_COLUMNS)
        )


def _league_mismatch(rows: _Rows, key: str, league: str) -> None:
    given = rows.text(key)
    rows.reject(given.notna() & (given.str.upper() != league), "wrong_league", key, given)


def _dates(values: pd.Series, formats: list[str]) -> pd.Series:
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in formats:
        missing = parsed.isna() & values.notna()
        if not missing.any():
            break
        parsed[missing] = pd.to_datetime(values[missing], format=fmt, errors="coerce")
    return parsed


def _reject_bad_dates(rows: _Rows, key: str, parsed: pd.Series, raw: pd.Series) -> None:
    rows.reject(raw.isna(), "missing_date", key)
    rows.reject(parsed.isna(), "invalid_date", key, raw)
    rows.reject((parsed.dt.year < MIN_YEAR) | (parsed.dt.year > MAX_YEAR), "date_out_of_range", key, raw)


def _is_bye(names: pd.Series) -> pd.Series:
    return names.fillna("").str.match(r"^BYE\b", case=False)


def _player_id(values: pd.Series) -> pd.Series:
    """Match-slot ids: '' and placeholders ('unknown_h1a', 'FALLBACK_...') are no id at all."""
    ids = _apply(values, str.strip)
    return ids.where(~ids.fillna("").str.match(r"^(unknown_|FALLBACK_|$)", case=False), None)


# --- the five files ----------------------------------------------------------------------------


def _players(rows: _Rows, league: str) -> pd.DataFrame:
    rows.reject_wrong_types(
        {"Player ID": (str,), "First Name": (str,), "Last Name": (str,), "Club": (str,), "Series": (str,)}
    )
    rows.reject_long_text()
    rows.reject_nul_characters()
    pid = rows.text("Player ID")
    rows.reject(pid.isna() | (pid == ""), "missing_player_id", "Player ID")
    rows.reject(pid.str.startswith("FALLBACK_", na=False), "fallback_id", "Player ID", pid)
    rows.reject(pid.str.startswith("unknown_", na=False), "placeholder_id", "Player ID", pid)
    rows.reject(rows.col("Last Name").isna(), "missing_last_name", "Last Name")
    _league_mismatch(rows, "League", league)
    club_raw = rows.text("Club")
    rows.reject(club_raw.isna() | (club_raw == ""), "missing_club", "Club")
    wins, losses = rows.col("Wins").map(parse_count), rows.col("Losses").map(parse_count)
    for key, parsed in (("Wins", wins), ("Losses", losses)):
        given = pd.Series(
            [v not in (None, "") and not (isinstance(v, float) and v != v) for v in rows.col(key).tolist()],
            index=rows.df.index,
            dtype=bool,
        )
        rows.reject(given & parsed.isna(), "invalid_number", key, rows.col(key))
        rows.reject(parsed < 0, "negative_count", key, rows.col(key))
    rows.reject_exact_duplicates()

    # The player's team: the scraper's own team column when it has one, else the mapping id.
    team_raw = rows.text("scrape_team").fillna(rows.text("Team")).fillna(rows.text("Series Mapping ID"))
    team_name = _apply(team_raw, canonical_team_name)
    # CNSWPL's early scrapes put the team in Club ('Birchwood 1'): the club is its prefix.
    club = pd.Series(
        [
            club_from_team_name(c) if (c and t and team_key(c) == team_key(t)) else c
            for c, t in zip(club_raw.tolist(), team_name.tolist())
        ],
        index=rows.df.index,
        dtype="object",
    )
    series_label = rows.text("Series")
    pti_raw = rows.col("PTI")
    pti = pti_raw.map(parse_number)
    win_pct = rows.col("Win %").map(parse_number)
    for key, values, limit in (("PTI", pti, PTI_LIMIT), ("Win %", win_pct, WIN_PCT_LIMIT)):
        too_big = pd.Series(
            [v is not None and v == v and abs(v) >= limit for v in values.tolist()], index=values.index, dtype=bool
        )
        rows.reject(too_big, "out_of_range", key, rows.col(key))
    rows.note("pti_not_available", int((pti.isna() & pti_raw.notna()).sum()))
    first = rows.text("First Name")
    last = rows.text("Last Name").fillna("")
    return pd.DataFrame(
        {
            "row_number": rows.df.index,
            "tenniscores_player_id": pid,
            "first_name": first,
            "last_name": last,
            "club": club,
            "series_label": series_label,
            "series": series_label.map(normalize_series),
            "team_name": team_name,
            "pti": pti,
            "wins": wins.fillna(0).astype("Int64") if len(wins) else wins,
            "losses": losses.fillna(0).astype("Int64") if len(losses) else losses,
            "win_percentage": win_pct,
            "captain_status": rows.col("Captain").map(normalize_captain),
        },
        index=rows.df.index,
    )


def _schedules(rows: _Rows, league: str) -> pd.DataFrame:
    rows.reject_wrong_types({"home_team": (str,), "away_team": (str,), "date": (str,), "location": (str,)})
    rows.reject_long_text()
    rows.reject_nul_characters()
    home_raw, away_raw = rows.text("home_team"), rows.text("away_team")
    is_practice = home_raw.isna() & rows.col("Practice").notna()
    rows.reject(is_practice, "practice_stub", "home_team")
    rows.reject(home_raw.isna() | (home_raw == ""), "missing_team", "home_team")
    rows.reject(away_raw.isna() | (away_raw == ""), "missing_team", "away_team")
    rows.reject(_is_bye(home_raw) | _is_bye(away_raw), "bye", "home_team", home_raw + " v " + away_raw)
    home, away = _apply(home_raw, canonical_team_name), _apply(away_raw, canonical_team_name)
    rows.reject(
        home.str.startswith("-", na=False) | away.str.startswith("-", na=False), "empty_team", "home_team", home_raw
    )
    series = rows.text("series").fillna(rows.text("Series")).map(normalize_series)
    suffix_series = _apply(home_raw, lambda v: normalize_series(v.rsplit(" - ", 1)[1]) if " - Series " in v else None)
    series = series.fillna(suffix_series)
    team_series = _apply(home, series_from_team_name)
    rows.reject(
        series.isin(GHOST_SERIES) | (series.isna() & team_series.isin(GHOST_SERIES)),
        "ghost_series",
        "series",
        series.fillna(team_series),
    )
    rows.reject(series.isin(LEGENDS_SERIES) | (home == "Legends"), "legends_placeholder", "series", series)
    rows.reject(_apply(home, team_key) == _apply(away, team_key), "home_equals_away", "away_team", home)
    _league_mismatch(rows, "League", league)
    raw_date = rows.text("date")
    date = _dates(raw_date, ["%m/%d/%Y", "%Y-%m-%d"])
    _reject_bad_dates(rows, "date", date, raw_date)
    raw_time = rows.text("time")
    time = pd.to_datetime(raw_time.str.upper(), format="%I:%M %p", errors="coerce").dt.time
    rows.note("time_unparseable", int((time.isna() & raw_time.fillna("").ne("")).sum()))
    rows.reject_exact_duplicates()
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


def _matches(rows: _Rows, league: str) -> pd.DataFrame:
    rows.reject_wrong_types(
        {"Home Team": (str,), "Away Team": (str,), "Date": (str,), "Scores": (str,), "match_id": (str,)}
    )
    rows.reject_long_text()
    rows.reject_nul_characters()
    match_id = rows.text("match_id")
    home, away = rows.text("Home Team"), rows.text("Away Team")
    rows.reject(match_id.str.startswith("table_", na=False), "standings_row", "match_id", match_id)
    rows.reject(
        home.str.startswith("Unknown", na=False) | away.str.startswith("Unknown", na=False),
        "unknown_placeholder",
        "Home Team",
        home,
    )
    rows.reject(home.isna() | (home == ""), "missing_team", "Home Team")
    rows.reject(away.isna() | (away == ""), "missing_team", "Away Team")
    rows.reject(_is_bye(home) | _is_bye(away), "bye", "Home Team", home)
    home, away = _apply(home, canonical_team_name), _apply(away, canonical_team_name)
    rows.reject(_apply(home, team_key) == _apply(away, team_key), "home_equals_away", "Away Team", home)
    _league_mismatch(rows, "league_id", league)
    raw_date = rows.text("Date")
    date = _dates(raw_date, ["%d-%b-%y", "%m/%d/%Y", "%Y-%m-%d"])
    _reject_bad_dates(rows, "Date", date, raw_date)
    rows.reject_exact_duplicates()
    rows.reject(match_id.notna() & match_id.duplicated(keep="first"), "duplicate_key", "match_id", match_id)

    slots = {}
    for side in ("Home", "Away"):
        for n in (1, 2):
            raw = rows.col(f"{side} Player {n} ID")
            ids = _player_id(raw)
            rows.note(
                "placeholder_ids_dropped",
                int((ids.isna() & raw.map(lambda v: isinstance(v, str) and v.strip() != "")).sum()),
            )
            slots[f"{side.lower()}_player_{n}_id"] = ids
    winner = rows.text("Winner").str.lower()
    winner = winner.where(winner.isin(["home", "away"]), None)
    rows.note("winner_tie_or_unknown", int((winner.isna() & rows.col("Winner").notna()).sum()))
    scored = [normalize_score(s, w) for s, w in zip(rows.col("Scores"), winner)]
    rows.note("scores_flipped_to_home_first", sum(1 for _, f in scored if f))
    series = rows.text("series").fillna(rows.text("Series")).map(normalize_series)
    return pd.DataFrame(
        {
            "row_number": rows.df.index,
            "tenniscores_match_id": match_id,
            "match_date": date.dt.date,
            "home_team": home,
            "away_team": away,
            **slots,
            "scores": [s for s, _ in scored],
            "winner": winner,
            "series": series,
        },
        index=rows.df.index,
    )


_STAT_FIELDS = {
    "points": "points",
    "matches.won": "matches_won",
    "matches.lost": "matches_lost",
    "matches.tied": "matches_tied",
    "lines.won": "lines_won",
    "lines.lost": "lines_lost",
    "lines.for": "lines_for",
    "lines.ret": "lines_ret",
    "sets.won": "sets_won",
    "sets.lost": "sets_lost",
    "games.won": "games_won",
    "games.lost": "games_lost",
}


def _series_stats(rows: _Rows, league: str) -> pd.DataFrame:
    rows.reject_wrong_types({"team": (str,), "series": (str,)})
    rows.reject_long_text()
    rows.reject_nul_characters()
    team_raw, series_raw = rows.text("team"), rows.text("series")
    rows.reject(team_raw.isna() | (team_raw == ""), "missing_team", "team")
    rows.reject(_is_bye(team_raw), "bye", "team", team_raw)
    series = series_raw.map(normalize_series)
    rows.reject(series.isin(GHOST_SERIES), "ghost_series", "series", series_raw)
    rows.reject(series.isin(LEGENDS_SERIES), "legends_placeholder", "series", series_raw)
    rows.reject(series.isna(), "unknown_series_label", "series", series_raw)
    _league_mismatch(rows, "league_id", league)
    flat = pd.json_normalize(rows.df.to_dict("records")) if len(rows.df) else pd.DataFrame()
    flat.index = rows.df.index
    numbers = {}
    for src, dst in _STAT_FIELDS.items():
        raw = flat[src] if src in flat.columns else pd.Series(None, index=rows.df.index, dtype="object")
        parsed = raw.map(parse_count)
        given = pd.Series(
            [v is not None and not (isinstance(v, float) and v != v) for v in raw.tolist()], index=raw.index, dtype=bool
        )
        rows.reject(given & parsed.isna(), "invalid_number", src, raw)
        rows.reject(parsed < 0, "negative_count", src, raw)
        numbers[dst] = parsed.fillna(0).astype("Int64") if len(parsed) else parsed
    team = _apply(team_raw, canonical_team_name)
    rows.reject(
        pd.Series(list(zip(series, _apply(team, team_key))), index=rows.df.index).duplicated(),
        "duplicate_key",
        "team",
        team,
    )
    return pd.DataFrame({"row_number": rows.df.index, "series": series, "team": team, **numbers}, index=rows.df.index)


def _player_history(rows: _Rows, league: str, known_ids: set[str]) -> pd.DataFrame:
    rows.reject_wrong_types({"player_id": (str,), "matches": (list,)})
    rows.reject_long_text()
    rows.reject_nul_characters()
    pid = rows.text("player_id")
    rows.reject(pid.isna() | (pid == ""), "missing_player_id", "player_id")
    rows.reject(pid.str.startswith("FALLBACK_", na=False), "fallback_id", "player_id", pid)
    _league_mismatch(rows, "league_id", league)
    rows.reject(~pid.isin(known_ids), "unknown_player", "player_id", pid)
    matches = rows.col("matches")
    rows.reject(matches.map(lambda m: not isinstance(m, list) or len(m) == 0), "no_matches", "matches")
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
    kept = rows.kept()
    career = {
        p: (parse_count(w), parse_count(lo))
        for p, w, lo in zip(pid[kept], rows.col("wins")[kept], rows.col("losses")[kept])
    }
    entries = [
        {"row_number": row, "tenniscores_player_id": p, "entry": i + 1, **(e if isinstance(e, dict) else {})}
        for row, p, ms in zip(rows.df.index[kept], pid[kept], matches[kept])
        for i, e in enumerate(ms)
    ]
    frame = pd.DataFrame(entries, columns=["row_number", "tenniscores_player_id", "entry", "date", "end_pti", "series"])
    date = _dates(frame["date"].map(lambda v: v if isinstance(v, str) else None), ["%m/%d/%Y", "%Y-%m-%d"])
    ok = date.notna() & date.dt.year.between(MIN_YEAR, MAX_YEAR)
    rows.report.notes["entries_read"] = len(frame)
    rows.report.notes["entries_accepted"] = int(ok.sum())
    if (~ok).any():
        rows.report.notes["entries_rejected_invalid_date"] = int((~ok).sum())
    result = pd.DataFrame(
        {
            "row_number": frame["row_number"][ok],
            "tenniscores_player_id": frame["tenniscores_player_id"][ok],
            "series": frame["series"][ok].map(lambda v: collapse_spaces(v)[:255] if isinstance(v, str) else None),
            "date": date[ok].dt.date,
            "end_pti": frame["end_pti"][ok].map(parse_number),
        }
    ).reset_index(drop=True)
    result.attrs["career"] = career  # career wins/losses per player id, for the players rows
    return result


# --- teams: one row per real team, whatever file names it ------------------------------------


def _build_teams(
    players: pd.DataFrame, schedule: pd.DataFrame, matches: pd.DataFrame, stats: pd.DataFrame
) -> pd.DataFrame:
    """Every team any kept row names, with its club and series.

    The name shown is the standings' spelling when there is one; the series is the one a file
    states for the team (standings, then schedule, then roster, then match rows); the club is the
    roster's club, else the name's prefix. A team whose series no file states gets the series its
    name spells ('Hinsdale PC 1a' -> 'Series 1') only if the league's input names that series.
    """
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
    refs = refs[refs["team_name"].notna()].copy()
    if refs.empty:
        return pd.DataFrame(columns=["team_key", "team_name", "club", "series", "series_source"])
    keys = _apply(refs["team_name"], team_key).tolist()
    named_series = set(refs["series"].dropna())
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
        if not _missing(series_col[i]):
            group[1].append(series_col[i])
        if not _missing(clubs_col[i]):
            group[2].append(clubs_col[i])
    teams = []
    for key in sorted(groups):
        name, stated, clubs = groups[key]
        series, source = (_mode(stated), "stated") if stated else (None, None)
        if series is None:
            spelled = series_from_team_name(name)
            if spelled in named_series:
                series, source = spelled, "team_name"
        club = _mode(clubs) if clubs else club_from_team_name(name)
        teams.append({"team_key": key, "team_name": name, "club": club, "series": series, "series_source": source})
    return pd.DataFrame(teams)


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _mode(values: list):
    """Series(values).mode().iloc[0]: the most frequent value, the smallest of those on a tie."""
    counts = Counter(values)
    top = max(counts.values())
    return min(v for v, n in counts.items() if n == top)


def _teamless(frame: pd.DataFrame, file: str, columns: list[str], teams: pd.DataFrame) -> list[dict]:
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


def _swap_reversed_home_away(schedule: pd.DataFrame, teams: pd.DataFrame) -> int:
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


# --- the league ------------------------------------------------------------------------------


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


def parse_league(folder: Path, landing_root: Path | None = None) -> ParsedLeague:
    """Parse `<landing>/<LEAGUE>/` into normalised frames. Raises InputError for unusable files."""
    folder = Path(folder)
    league = league_code(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "is not a folder")
    digest = hashlib.sha256()
    raw: dict[str, list | None] = {}
    for name in LANDING_FILES:
        path = folder / name
        if not path.exists() and not path.is_symlink():
            raw[name] = None
            continue
        records, data = _read_json_array(path, landing_root)
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        raw[name] = records
    if raw["players.json"] is None:
        raise InputError(str(folder / "players.json"), "is missing: a league folder needs players.json")
    if len(raw["players.json"]) == 0:
        raise InputError(
            str(folder / "players.json"), "holds no records; importing it would deactivate every player of the league"
        )

    reports: dict[str, FileReport] = {}
    rejections: list[pd.DataFrame] = []

    def run(name: str, parse, *args, per_row: bool = True) -> pd.DataFrame | None:
        if raw[name] is None:
            reports[name] = FileReport(file=name, present=False)
            return None
        rows = _Rows(name, raw[name])
        frame = parse(rows, league, *args)
        rejections.append(rows.finish())
        reports[name] = rows.report
        return frame[rows.kept()].reset_index(drop=True) if per_row else frame

    players = run("players.json", _players)
    known_ids = set(players["tenniscores_player_id"])
    matches = run("match_history.json", _matches)
    schedule = run("schedules.json", _schedules)
    stats = run("series_stats.json", _series_stats)
    history = run("player_history.json", _player_history, known_ids, per_row=False)

    matches = matches if matches is not None else _empty(["row_number", "home_team", "away_team", "series"])
    schedule = (
        schedule if schedule is not None else _empty(["row_number", "home_team", "away_team", "series", "location"])
    )
    stats = stats if stats is not None else _empty(["row_number", "team", "series"])
    history = (
        history if history is not None else _empty(["row_number", "tenniscores_player_id", "series", "date", "end_pti"])
    )

    career = history.attrs.get("career", {})
    players["career_wins"] = pd.array(
        [career.get(p, (None, None))[0] for p in players["tenniscores_player_id"]], dtype="Int64"
    )
    players["career_losses"] = pd.array(
        [career.get(p, (None, None))[1] for p in players["tenniscores_player_id"]], dtype="Int64"
    )

    teams = _build_teams(players, schedule, matches, stats)
    series_of_team = dict(zip(teams["team_key"], teams["series"]))
    # A roster row whose own series label is junk ('Chicago Chicago') takes its team's series.
    fill = players["series"].isna()
    players.loc[fill, "series"] = _apply(players.loc[fill, "team_name"], lambda t: series_of_team.get(team_key(t)))
    reports["players.json"].notes["series_taken_from_team"] = int(fill.sum() - players["series"].isna().sum())
    dup_key = players.duplicated(["tenniscores_player_id", "club", "series"], keep="first") & players["series"].notna()
    no_series = players["series"].isna()
    players_rejected = players[dup_key | no_series]
    if len(players_rejected):
        rejections.append(
            pd.DataFrame(
                {
                    "file": "players.json",
                    "row_number": players_rejected["row_number"],
                    "field": "Series",
                    "reason": ["duplicate_key" if d else "unknown_series_label" for d in dup_key[dup_key | no_series]],
                    # The natural key holds one row per (league, club, series): a second team of the same
                    # club in the same series ('Prairie Club 2a' and '2b') cannot get its own row.
                    "detail": [
                        f"same club and series as another row; team {t}" if d else f"series label {lab!r}"
                        for d, t, lab in zip(
                            dup_key[dup_key | no_series],
                            players_rejected["team_name"],
                            players_rejected["series_label"],
                        )
                    ],
                }
            )
        )
        rep = reports["players.json"]
        for reason, n in Counter(
            "duplicate_key" if d else "unknown_series_label" for d in dup_key[dup_key | no_series]
        ).items():
            rep.rejected[reason] = rep.rejected.get(reason, 0) + n
        rep.accepted -= len(players_rejected)
        players = players[~(dup_key | no_series)].reset_index(drop=True)

    reports["schedules.json"].notes["home_away_swapped_by_location"] = _swap_reversed_home_away(schedule, teams)

    teamless = (
        _teamless(players, "players.json", ["team_name"], teams)
        + _teamless(schedule, "schedules.json", ["home_team", "away_team"], teams)
        + _teamless(matches, "match_history.json", ["home_team", "away_team"], teams)
        + _teamless(stats, "series_stats.json", ["team"], teams)
    )
    all_rejections = [r for r in rejections if len(r)]
    return ParsedLeague(
        league=league,
        folder=str(folder),
        fingerprint=digest.hexdigest(),
        players=players,
        teams=teams[teams["series"].notna()].reset_index(drop=True),
        matches=matches,
        schedule=schedule,
        series_stats=stats,
        player_history=history,
        reports=reports,
        rejections=pd.concat(all_rejections, ignore_index=True) if all_rejections else _empty(REJECTION_COLUMNS),
        teamless=pd.DataFrame(teamless, columns=TEAMLESS_COLUMNS),
    )


def find_leagues(landing: Path) -> list[Path]:
    """League folders under a landing folder: every sub-folder holding at least one landing file."""
    landing = Path(landing)
    if not landing.is_dir():
        raise InputError(str(landing), "is not a folder")
    return sorted(p for p in landing.iterdir() if p.is_dir() and any((p / f).exists() for f in LANDING_FILES))
