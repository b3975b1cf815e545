"""Dagster resources: the app database, the landing zone and the import policy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg

from rally_assets.core import db, policy
from rally_assets.core.settings import landing_dir


class RallyDatabase(dg.ConfigurableResource):
    """The app database: RALLY_DATABASE_URL, else the embedded PostgreSQL under RALLY_HOME.

    No config field on purpose: a URL typed into the launchpad would be stored, password and all,
    in the run's config. The URL comes from the environment of the process that runs the step.
    """

    def resolved_url(self) -> str:
        return db.database_url()

    @contextlib.contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        with db.connection(self.resolved_url()) as conn:
            yield conn


class LandingZone(dg.ConfigurableResource):
    """The folder league folders land in. `path` empty: RALLY_LANDING_DIR, else RALLY_HOME/landing."""

    path: str = ""

    def root(self) -> Path:
        return Path(self.path).expanduser().resolve() if self.path else landing_dir()


class ImportPolicy(dg.ConfigurableResource):
    """The thresholds an import is judged by, and the operator's override. Set per run in the run
    config (`resources: {import_policy: {config: {allow_churn: true}}}`) or `rally import --allow-churn`.
    Defaults: rally_assets.core.policy."""

    max_deactivated_pct: float = policy.MAX_DEACTIVATED_PCT  # of the league's active players
    max_deactivated_linked_pct: float = policy.MAX_DEACTIVATED_LINKED_PCT  # of its players linked to a user
    allow_churn: bool = False  # publish anyway, carrying user links across to the new players
    max_rejected_pct: float = policy.MAX_REJECTED_PCT  # per landing file
    snapshot_keep: int = policy.SNAPSHOT_KEEP  # snapshots kept per league
    discovery_limit: int = policy.DISCOVERY_LIMIT  # users looked at per discovery run

    def limits(self) -> policy.ImportLimits:
        return policy.ImportLimits(
            max_deactivated_pct=self.max_deactivated_pct,
            max_deactivated_linked_pct=self.max_deactivated_linked_pct,
            max_rejected_pct=self.max_rejected_pct,
            allow_churn=self.allow_churn,
        )
