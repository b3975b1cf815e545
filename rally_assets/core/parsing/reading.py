"""Reading a landing folder: the league code its name gives, its JSON arrays, the limits of a value."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rally_assets.core.errors import InputError
from rally_assets.core.file_types import LANDING_FILES

LEAGUE_CODE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
MAX_TEXT = 255  # the width of the name columns (varchar(255)); longer is scraper garbage or an attack
MIN_YEAR, MAX_YEAR = 1990, 2100
PTI_LIMIT, WIN_PCT_LIMIT = 1e8, 1000.0  # players.pti numeric(10,2), win_percentage numeric(5,2)


def league_code(folder: Path) -> str:
    if not LEAGUE_CODE.match(folder.name):
        raise InputError(
            str(folder), "a league folder name must be 1-64 letters, digits or underscores (it becomes the league id)"
        )
    return folder.name.upper()


def read_json_array(path: Path, landing_root: Path | None) -> tuple[list, bytes]:
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


def find_leagues(landing: Path) -> list[Path]:
    """League folders under a landing folder: every sub-folder holding at least one landing file."""
    landing = Path(landing)
    if not landing.is_dir():
        raise InputError(str(landing), "is not a folder")
    return sorted(p for p in landing.iterdir() if p.is_dir() and any((p / f).exists() for f in LANDING_FILES))
