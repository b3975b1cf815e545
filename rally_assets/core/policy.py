"""Every threshold and default the import, its checks, the repairs and the automation are judged
by, once. ImportPolicy (the Dagster resource), the checks, the CLI help and the bench read these."""

from __future__ import annotations

from dataclasses import dataclass

# --- an import, before its publish (blocking checks) -----------------------------------------
MAX_DEACTIVATED_PCT = 20.0  # of the league's active players a publish may deactivate
MAX_DEACTIVATED_LINKED_PCT = 10.0  # of its players linked to a user
MAX_REJECTED_PCT = 25.0  # rejected rows per landing file
MIN_ROWS_FOR_RATE = 50  # a 10-row junk file (CNSWPL's FALLBACK player_history) says nothing of a scrape
# Corrupt scrapes (the scrape_integrity check, blocking; real landings in data/rally_history_sample):
MAX_MISSING_PLAYER_ID_PCT = 50.0  # players.json rows without a player id (APTA 2025-09-21: 99.8%)
MAX_SERIES_MAPPING_DISAGREES_PCT = 50.0  # rows whose own Series Mapping ID names another series (CNSWPL 08-10: 93%)
SERIES_COLLAPSE_MIN_LEAGUE_SERIES = 3  # a league with at least this many series ...
SERIES_COLLAPSE_MIN_PLAYERS_PCT = 50.0  # ... scraped into ONE series holding this share of its players collapsed
MAX_TRUNCATED_CLUB_PCT = 10.0  # rows naming a club that is the first word(s) of a known club of the league
TRUNCATED_CLUBS_LISTED = 10  # truncated club names shown in the diagnosis
# The churn breaker's diagnosis (what it says, never whether it trips):
ID_SCHEME_CHANGE_PCT = 50.0  # this share of player ids gone reads as an id-scheme change ...
ID_SCHEME_MATCHED_PCT = 50.0  # ... when this share of the departed players match a new id by name, club and series
NAMING_DRIFT_PCT = 50.0  # of the rows the publish would deactivate, those whose id stays in the landing

# --- evidence an import leaves ----------------------------------------------------------------
SNAPSHOT_KEEP = 30  # user-data snapshots kept per league
STAGED_STALE_AFTER = "2 days"  # staged rows of runs that died before publishing are swept after this
CARRIED_UNMATCHED_LISTED = 200  # unmatched links listed in a publish report
USERS_TOUCHED_LISTED = 200  # users whose links or context a publish changed, listed in its report

# --- repairs ----------------------------------------------------------------------------------
DISCOVERY_LIMIT = 100  # users looked at per discovery run

# --- health (design.md invariant 6) -----------------------------------------------------------
CONTEXT_MIN_PCT = 95.0  # users with associations whose league context is valid
AVAILABILITY_MIN_PCT = 90.0  # availability rows carrying a user_id
# Bands of the league-context score (rally-domain.md §6.1), highest first: (lowest score, name).
HEALTH_BANDS = ((100.0, "all valid"), (90.0, "excellent"), (80.0, "good"), (70.0, "warning"), (0.0, "critical"))
# A failed health check whose score is still in one of these bands is a warning; below them, an error.
WARN_BANDS = ("all valid", "excellent", "good")
FRESHNESS_DAYS = 14  # a league with no publish for this many days is stale (a WARN, never an ERROR)
FRESHNESS_CRON = "0 7 * * *"  # when the freshness checks run

# --- automation (each overridable by its environment variable, see settings.py) ---------------
LANDING_SETTLE_SECONDS = 10.0  # a league folder's files untouched this long before an import
SENSOR_INTERVAL_SECONDS = 15  # how often the sensors look
HEALTH_CRON = "0 * * * *"  # the health checks between imports


def health_band(score: float) -> str:
    """The band of a league-context score."""
    return next(name for lowest, name in HEALTH_BANDS if score >= lowest)


def health_severity(score: float) -> str:
    """ "WARN" or "ERROR" for a failed health check, by the band its score is in."""
    return "WARN" if health_band(score) in WARN_BANDS else "ERROR"


def meets(part: int, whole: int, minimum_pct: float) -> bool:
    """part/whole >= minimum_pct, on the exact counts (the displayed percentage is rounded)."""
    return whole == 0 or part * 100 >= minimum_pct * whole


def pct(part: int, whole: int) -> float:
    """part as a percentage of whole, rounded for display (0 of nothing is 0%)."""
    return 0.0 if whole == 0 else round(100.0 * part / whole, 2)


@dataclass(frozen=True)
class ImportLimits:
    """The limits one import is judged by, and the operator's override of the churn breaker."""

    max_deactivated_pct: float = MAX_DEACTIVATED_PCT
    max_deactivated_linked_pct: float = MAX_DEACTIVATED_LINKED_PCT
    max_rejected_pct: float = MAX_REJECTED_PCT
    allow_churn: bool = False  # publish anyway, carrying user links across to the new players
