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
TABLE_LEGEND = (
    "inserted: new rows; updated: rows whose values changed (same id); deleted: fact rows the league's new "
    "files no longer hold; deactivated: players missing from the files (kept, marked inactive); "
    "kept: table left exactly as it was"
)
COUNTS = ("inserted", "updated", "deleted", "deactivated")


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
    players_deactivated_linked: int = 0  # of the deactivated players, those a user is linked to
    players_moved_out: int = 0  # deactivated in a partial scrape's series, still active in another one
    players_moved_out_linked: int = 0
    diff_sample: list[dict] = field(default_factory=list)  # a few players added / moved / deactivated
    links: LinkCarry | None = None
    contexts_fixed_by_reason: dict[str, int] = field(default_factory=dict)
    # Rows an older importer wrote that this publish identified (renamed in place) or could not.
    adoption: list[dict] = field(default_factory=list)

    # The users whose links or league context the publish changed (the first ones): user, change, reason.
    users_touched: list[dict] = field(default_factory=list)

    scope: Scope | None = None  # the series the landing covered (partial scrape: only those were written)

    @property
    def contexts_fixed(self) -> int:
        return sum(self.contexts_fixed_by_reason.values())

    def as_json(self) -> dict:
        return {**asdict(self), "scope": self.scope.as_json() if self.scope else None}

    @classmethod
    def from_json(cls, data: dict) -> PublishReport:
        recorded = data.get("tables", {})  # jsonb keeps its keys in its own order: back to the publish's
        order = [t for t in PUBLISHED_TABLES if t in recorded] + sorted(set(recorded) - set(PUBLISHED_TABLES))
        tables = {name: TableChanges(**recorded[name]) for name in order}
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
        out["players_deactivated_linked"] = self.players_deactivated_linked
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

    def table_lines(self) -> list[str]:
        """Every table with its inserted / updated / deleted / deactivated counts, one line each
        (see TABLE_LEGEND); a table left as it was says why."""
        width = max(len(t) for t in self.tables)
        lines = [f"{'table':<{width}}  " + "  ".join(f"{c:>11}" for c in COUNTS)]
        for table, changes in self.tables.items():
            if changes.kept:
                lines.append(f"{table:<{width}}  kept: {changes.kept}")
            else:
                lines.append(f"{table:<{width}}  " + "  ".join(f"{getattr(changes, c):>11}" for c in COUNTS))
        return lines

    def users_line(self) -> str:
        """How many users' links and league contexts the publish changed."""
        carried = self.links.links_carried if self.links else 0
        unmatched = f", {self.links.links_unmatched} not carried" if self.links and self.links.links_unmatched else ""
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.contexts_fixed_by_reason.items()))
        return f"users: {carried} link(s) carried{unmatched}; {self.contexts_fixed} league context(s) set" + (
            f" ({reasons})" if reasons else ""
        )
