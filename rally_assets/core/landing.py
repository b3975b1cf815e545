"""What the landing sensor sees: league folders, whether they settled, and their content fingerprint.

Cheap by design (a tick over 1,000 league folders must take well under a second): a folder's
files are stat'ed every tick and hashed only when their size or mtime changed since the last
tick. The run key is the content hash, so identical files are never imported twice, even after
a cursor reset (then every folder is hashed once more).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from rally_assets.core.file_types import LANDING_FILES
from rally_assets.core.parsing.reading import LEAGUE_CODE


@dataclass
class FolderState:
    league: str
    folder: str
    stat_signature: str  # sizes and mtimes of the landing files
    newest_mtime: float


def scan(landing: Path) -> tuple[list[FolderState], list[str]]:
    """League folders with at least one landing file; and the names skipped (not league folders)."""
    states, skipped = [], []
    if not landing.is_dir():
        return states, [f"landing folder {landing} does not exist"]
    with os.scandir(landing) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if not entry.is_dir():
                continue
            if not LEAGUE_CODE.match(entry.name):
                skipped.append(f"{entry.name!r} (not a league folder name)")
                continue
            parts, newest = [], 0.0
            for name in LANDING_FILES:
                try:
                    st = os.stat(os.path.join(entry.path, name))
                except FileNotFoundError:
                    continue
                parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
                newest = max(newest, st.st_mtime)
            if parts:
                states.append(FolderState(entry.name.upper(), entry.path, "|".join(parts), newest))
    return states, skipped


def content_fingerprint(folder: Path) -> str:
    """sha256 over the landing files' names and bytes (the same files give the same key)."""
    digest = hashlib.sha256()
    for name in LANDING_FILES:
        path = folder / name
        if path.exists():
            digest.update(name.encode() + b"\0")
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()[:32]


def settled(state: FolderState, settle_seconds: float, now: float | None = None) -> bool:
    return (now or time.time()) - state.newest_mtime >= settle_seconds
