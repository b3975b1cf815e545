"""Turning domain results into Dagster metadata (shared by the asset groups)."""

import dagster as dg


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "_no changes_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += [
        "| " + " | ".join("" if r[c] is None else str(r[c]).replace("|", "/") for c in columns) + " |" for r in rows
    ]
    return "\n".join(lines)


def as_metadata(values: dict) -> dict:
    """Metadata: numbers stay numbers (so Dagster plots them), anything else becomes JSON."""
    return {
        k: (float(v) if isinstance(v, float) else v)
        if isinstance(v, (int, float, str)) and not isinstance(v, bool)
        else dg.MetadataValue.json(v if not isinstance(v, bool) else str(v))
        for k, v in values.items()
    }


def league_of_run(context: dg.AssetCheckExecutionContext) -> str:
    """The league of the run: checks of a per-league asset run in that league's partitioned run."""
    return context.run.tags["dagster/partition"]
