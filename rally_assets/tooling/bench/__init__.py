"""`rally bench`: how fast the import is, next to its floors, at 1x, 10x and 100x, and through every
path an operator takes (the domain functions, the CLI, a real `dagster dev`).

What is measured (every number comes from this run, on this machine, on the same server):

- **real data**: `import_1` then `import_2` (all leagues) through the domain functions, stage by
  stage (parse, stage, snapshot, publish, discovery, checks), on a fresh database; 1,000 synthetic
  users are added between the two imports so `import_2` carries user data through the snapshot,
  the checks and the id-scheme change (published as `rally import --allow-churn` would).
- **the floors of the publish, on the same rows and the same database**: the rows the publish of
  `import_1` wrote, COPY'd into empty copies of the live tables (`LIKE ... INCLUDING ALL`, their
  foreign keys re-created between the copies; logged, one transaction): `live_copy_floor_s`, the
  target's floor. And, as information, the staged rows as Python tuples COPY'd into empty UNLOGGED
  tables of the staging shape (`copy_floor_s`).
- **the domain path**: `import_1` through `pipeline.import_league` per league + `pipeline.post_import`,
  nothing beside it, on a fresh database made ready by `rally init-db` (`domain_path_s`).
- **the Dagster job**: `import_leagues` + `run_post_import` in-process on `import_1` (every check),
  on a fresh database and a fresh DAGSTER_HOME (`real_import_s`); and a cold subprocess
  `rally import import_1` on a fresh database and a fresh RALLY_HOME (`real_import_cold_cli_s`),
  then once more under cProfile (where its time goes).
- **a real `dagster dev`**: NSTF launched over GraphQL, from the launch to the run's SUCCESS
  (`daemon_import_s`), against a cold `rally import` of NSTF alone (`daemon_vs_cli`).
- **synthetic scales**: `synthetic.generate_landing` grown the way Rally grows (more leagues of
  ~900 players), sized to ~1x, ~10x and ~100x the rows of the real `import_1` (`--quick` stops
  after 10x). Each scale runs in its own process (its peak RSS is the process's own) on its own
  database.
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
