"""One landing file's records as a frame, the bookkeeping of its rejected rows, and the column
helpers the parsers of every file type share."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rally_assets.core.parsing.normalize import league_label_matches
from rally_assets.core.parsing.reading import MAX_TEXT, MAX_YEAR, MIN_YEAR

REJECTION_COLUMNS = ["file", "row_number", "field", "reason", "detail"]


@dataclass
class FileReport:
    file: str
    present: bool = True
    rows_read: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # unusable rows, by reason: the quality check judges these
    notes: dict[str, int] = field(default_factory=dict)  # repairs applied to kept rows
    # Sound variation, never counted as rejections (rows_read = accepted + rejected + set aside + folded):
    folded: int = 0  # exact repeats of an earlier record, kept once
    set_aside: dict[str, int] = field(default_factory=dict)  # usable rows the league does not take, by reason
    league_aliases: dict[str, int] = field(default_factory=dict)  # league labels taken for the folder's league

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "present": self.present,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": sum(self.rejected.values()),
            "folded": self.folded,
            "set_aside": dict(sorted(self.set_aside.items())),
            "set_aside_total": sum(self.set_aside.values()),
            "league_aliases": dict(sorted(self.league_aliases.items())),
            "notes": dict(sorted(self.notes.items())),
        }


def on_text(values: pd.Series, fn) -> pd.Series:
    """fn on the non-empty strings of a column; None elsewhere (pandas 3 turns None into NaN)."""
    # .tolist(): iterating a pandas Series element by element costs more than fn itself.
    return pd.Series(
        [fn(v) if isinstance(v, str) and v else None for v in values.tolist()], index=values.index, dtype="object"
    )


class FileRows:
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
        # reason.isna() and not folded, kept as an array: reject() runs ~70 times a file
        self._open = np.ones(len(self.df.index), dtype=bool)
        self._folded = np.zeros(len(self.df.index), dtype=bool)  # exact repeats of an earlier kept record
        self._aside_reasons: set[str] = set()  # reasons that set a row aside rather than reject it
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
            mask = mask.fillna(False).astype(bool) & pd.Series(self._open, index=self.reason.index)
            if not mask.any():
                return
        self.reason[mask] = reason
        self.field[mask] = field
        if detail is not None:
            self.detail[mask] = detail[mask].astype(str).str.slice(0, 200)
        self._open = self.reason.isna().to_numpy() & ~self._folded

    def set_aside(
        self, mask: pd.Series, reason: str, field: str | None = None, detail: pd.Series | None = None
    ) -> None:
        """Rows that are usable but that the league does not take (history of a player its roster does
        not list): listed with their reason like a rejection, counted apart, never judged as unusable."""
        self._aside_reasons.add(reason)
        self.reject(mask, reason, field, detail)

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

    def fold_exact_repeats(self) -> None:
        """An exact repeat of an earlier record is the same record scraped twice: kept once, the repeats
        counted (report.folded), never rejected. Only rows still open are folded: a repeated unusable
        row (7,537 empty APTA rows) stays rejected, each copy, so the file's unusable share is judged."""
        if not self._open.any():
            return
        as_text = pd.Series([json.dumps(r, sort_keys=True, default=str) for r in self.records], index=self.df.index)[
            self._open
        ]
        repeats = as_text.duplicated().reindex(self.df.index, fill_value=False).to_numpy(dtype=bool)
        self._folded |= repeats
        self._open &= ~repeats

    def note(self, name: str, count: int) -> None:
        if count:
            self.report.notes[name] = self.report.notes.get(name, 0) + int(count)

    def kept(self) -> pd.Series:
        return pd.Series(self._open, index=self.reason.index)

    def finish(self) -> pd.DataFrame:
        """Close the report; return the rows not kept with their reason (rejected or set aside; the
        folded repeats are counted, not listed)."""
        self.report.folded = int(self._folded.sum())
        if self._open.all() and not self._rejections:  # nothing rejected: the empty frame, without building it
            self.report.accepted = len(self._open)
            return pd.DataFrame(columns=REJECTION_COLUMNS)
        counts = Counter(self.reason.dropna())
        for reason, n in counts.items():
            bucket = self.report.set_aside if reason in self._aside_reasons else self.report.rejected
            bucket[reason] = bucket.get(reason, 0) + n
        self.report.accepted = int(self._open.sum())
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


def league_mismatch(rows: FileRows, key: str, league: str) -> None:
    """Reject rows labelled with another league; a label that is the folder's league misspelt or under
    a known alias ('nsft' for NSTF) is that league: kept, and the label counted in the report."""
    given = rows.text(key)
    verdicts = {label: league_label_matches(label, league) for label in given.dropna().unique().tolist()}
    rows.reject(given.map(lambda v: v is not None and not verdicts[v]), "wrong_league", key, given)
    for label, matches in verdicts.items():
        if matches and label.upper() != league:
            n = int((given == label).sum())
            rows.report.league_aliases[label] = rows.report.league_aliases.get(label, 0) + n


def parse_dates(values: pd.Series, formats: list[str]) -> pd.Series:
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in formats:
        missing = parsed.isna() & values.notna()
        if not missing.any():
            break
        parsed[missing] = pd.to_datetime(values[missing], format=fmt, errors="coerce")
    return parsed


def reject_bad_dates(rows: FileRows, key: str, parsed: pd.Series, raw: pd.Series) -> None:
    rows.reject(raw.isna(), "missing_date", key)
    rows.reject(parsed.isna(), "invalid_date", key, raw)
    rows.reject((parsed.dt.year < MIN_YEAR) | (parsed.dt.year > MAX_YEAR), "date_out_of_range", key, raw)


def is_bye(names: pd.Series) -> pd.Series:
    return names.fillna("").str.match(r"^BYE\b", case=False)


def slot_player_id(values: pd.Series) -> pd.Series:
    """Match-slot ids: '' and placeholders ('unknown_h1a', 'FALLBACK_...') are no id at all."""
    ids = on_text(values, str.strip)
    return ids.where(~ids.fillna("").str.match(r"^(unknown_|FALLBACK_|$)", case=False), None)
