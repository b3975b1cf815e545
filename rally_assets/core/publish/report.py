"""What a publish changed, as a typed value: the publish returns it, the run records it, the Dagster
layer turns it into metadata and the CLI prints it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rally_assets.core.publish.scope import Scope

# The tables a publish writes, in the order it writes them.
PUBLISHED_TABLES = (
    "leagues",
    "clubs",
    "series",
    "teams",
    "players",
    "match_scores",
    "schedule",
    "series_stats",
    "player_history",
)

LEGEND = "+ inserted, ~ updated, - deleted, x deactivated (never deleted); '=' a table left as it was"


@dataclass
class TableChanges:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    deactivated: int = 0
    kept: str | None = None  # why the table was left exactly as it was (e.g. its file was absent)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted + self.deactivated

    def summary(self) -> str:
        if self.kept:
            return "="
        parts = [f"+{self.inserted}", f"~{self.updated}", f"-{self.deleted}"]
        if self.deactivated:
            parts.append(f"x{self.deactivated}")
        return " ".join(parts)


@dataclass
class LinkCarry:
    """Links carried across an id-scheme change (the operator's override)."""

    links_carried: int = 0
    links_unmatched: int = 0
    users_stranded: int = 0
    users_carried: int = 0
    unmatched: list[dict] = field(default_factory=list)  # the first ones, each with a reason


@dataclass
class PublishReport:
    league: str
    run_id: str
    xid: int | None = None  # the publish transaction's id (rows it wrote carry it as xmin)
    tables: dict[str, TableChanges] = field(default_factory=lambda: {t: TableChanges() for t in PUBLISHED_TABLES})
    players_moved_team: int = 0
    diff_sample: list[dict] = field(default_factory=list)  # a few players added / moved / deactivated
    links: LinkCarry | None = None
    contexts_fixed_by_reason: dict[str, int] = field(default_factory=dict)
    scope: Scope | None = None  # the series the landing covered (partial scrape: only those were written)

    @property
    def contexts_fixed(self) -> int:
        return sum(self.contexts_fixed_by_reason.values())

    def as_json(self) -> dict:
        return {**asdict(self), "scope": self.scope.as_json() if self.scope else None}

    @classmethod
    def from_json(cls, data: dict) -> PublishReport:
        tables = {name: TableChanges(**changes) for name, changes in data.get("tables", {}).items()}
        links = LinkCarry(**data["links"]) if data.get("links") else None
        scope = Scope.from_json(data["scope"]) if data.get("scope") else None
        rest = {k: v for k, v in data.items() if k not in ("tables", "links", "scope")}
        return cls(**rest, tables=tables, links=links, scope=scope)

    def numbers(self) -> dict[str, int]:
        """Every count as a flat name -> number (what Dagster plots)."""
        out: dict[str, int] = {}
        for table, changes in self.tables.items():
            if changes.kept:
                continue
            for kind in ("inserted", "updated", "deleted", "deactivated"):
                out[f"{table}_{kind}"] = getattr(changes, kind)
        out["players_moved_team"] = self.players_moved_team
        out["contexts_fixed"] = self.contexts_fixed
        if self.links is not None:
            out.update({k: v for k, v in asdict(self.links).items() if isinstance(v, int)})
        return out

    def kept_tables(self) -> dict[str, str]:
        return {table: changes.kept for table, changes in self.tables.items() if changes.kept}

    def summary(self) -> str:
        """One line: every table and what happened to it (see LEGEND); a partial scrape says so first."""
        tables = "; ".join(f"{table} {changes.summary()}" for table, changes in self.tables.items())
        return f"{self.scope.describe()}: {tables}" if self.scope is not None and self.scope.partial else tables
