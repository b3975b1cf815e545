"""`rally bench`: how fast the import is, next to its floor and the old way, at 1x, 10x and 100x.

What is measured (every number comes from this run, on this machine, on the same server):

- **real data**: `import_1` then `import_2` (all leagues) through the domain functions, stage by
  stage (parse, stage, snapshot, publish, discovery, checks), on a fresh database; 1,000 synthetic
  users are added between the two imports so `import_2` carries user data through the snapshot,
  the checks and the id-scheme change (published as `rally import --allow-churn` would).
- **the Dagster job**: `import_leagues` + `run_post_import` in-process on `import_1` (every check),
  on a fresh database and a fresh DAGSTER_HOME (`real_import_s`); and a cold subprocess
  `rally import import_1` on a fresh database and a fresh RALLY_HOME (`real_import_cold_cli_s`).
- **synthetic scales**: `synthetic.generate_landing` grown the way Rally grows (more leagues of
  ~900 players), sized to ~1x, ~10x and ~100x the rows of the real `import_1` (`--quick` stops
  after 10x). Each scale runs in its own process (its peak RSS is the process's own) on its own
  database.
- **baselines, on the same rows and the same database**: the COPY floor (the staged rows, as
  Python tuples, COPY'd into empty UNLOGGED tables of the staging shape) and the old way (one
  INSERT statement per row through psycopg, `cur.execute` in a loop with the values bound on the
  client and no prepared statement, as the old psycopg2 ETL ran them, into empty logged tables of
  the same shape, one transaction).
- **100k users** on the largest scale's database: the health checks, the re-import of one league
  with those users, and the pieces of an import that read every user (each capped at 60 s);
  **a landing-sensor tick over 1,000 league folders** (steady state, and the first tick that
  hashes everything).

`python -m rally_assets.tooling.bench --worker SPEC` is the per-process worker (`workers`, run through
`__main__`); `run_bench` the driver (`driver`); `render_markdown` writes BENCHMARKS.md (`report`).
"""

from rally_assets.tooling.bench.common import REAL_DATA, STAGES, TARGETS
from rally_assets.tooling.bench.driver import run_bench
from rally_assets.tooling.bench.report import default_markdown_path

__all__ = ["REAL_DATA", "STAGES", "TARGETS", "default_markdown_path", "run_bench"]
