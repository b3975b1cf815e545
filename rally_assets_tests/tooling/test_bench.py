"""`rally bench` at a tiny scale: every key of the JSON is there, sane, and computed from its parts.

Speed is never asserted here (a test machine's load says nothing about the code); the targets are
judged by the command itself, in its JSON and in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import math

import psycopg
import pytest

from rally_assets.cli import _bench, build_parser
from rally_assets.tooling.bench import STAGES, TARGETS, run_bench
from rally_assets.tooling.synthetic.landing import generate_landing

pytestmark = pytest.mark.filterwarnings("ignore")

REQUIRED = (
    "real_import_s",
    "publish_vs_copy_ratio",
    "speedup_vs_rowwise",
    "peak_rss_mb",
    "scale_10x_vs_1x",
    "health_checks_100k_users_s",
    "sensor_tick_1000_leagues_s",
)


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _bench_databases(server_url: str) -> set[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'rally_bench_%'")}


@pytest.fixture(scope="module")
def tiny_real(tmp_path_factory):
    """A stand-in for the real data: two small landings of three leagues (the second re-imports the first)."""
    root = tmp_path_factory.mktemp("tiny_real")
    for name in ("import_1", "import_2"):
        generate_landing(root / name, scale=1, seed=5, players_per_league=60)
    return root


@pytest.fixture(scope="module")
def bench(server_url, tiny_real, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench_out")
    before = _bench_databases(server_url)
    results = run_bench(
        quick=True,
        json_path=out / "bench.json",
        markdown_path=out / "BENCHMARKS.md",
        admin_url=server_url,
        real_dir=tiny_real,
        multipliers=(1, 10),
        players_per_league=60,
        health_users=300,
        real_users=20,
        sensor_folders=30,
        repeats=1,
    )
    return results, out, before


def test_the_json_has_every_key_with_positive_values(bench):
    _results, out, _ = bench
    written = json.loads((out / "bench.json").read_text())
    for key in REQUIRED:
        assert _positive(written[key]), (key, written[key])
    assert _positive(written["real_import_cold_cli_s"])
    assert set(written["targets"]) == set(TARGETS)
    for key, check in written["targets"].items():
        assert check["value"] == written[key]
        assert isinstance(check["pass"], bool), key


def test_ratios_are_computed_from_the_measured_parts(bench):
    results, _, _ = bench
    real_1 = results["real"]["imports"][0]
    stages = real_1["stages_s"]
    assert set(stages) == set(STAGES) and all(v >= 0 for v in stages.values())
    assert real_1["total_s"] == pytest.approx(sum(stages.values()), abs=0.01)
    assert real_1["rowwise_statements"] == real_1["rows_total"] > 0
    assert results["publish_vs_copy_ratio"] == round(stages["publish"] / real_1["copy_floor_s"], 2)
    assert results["speedup_vs_rowwise"] == round(real_1["rowwise_s"] / (stages["stage"] + stages["publish"]), 2)

    measured = {s["multiplier"]: s for s in results["scales"] if s["measured"]}
    assert set(measured) == {1, 10}
    x1, x10 = (measured[m]["result"]["imports"][0] for m in (1, 10))
    assert x10["rows_total"] > x1["rows_total"] > 0 and x10["leagues"] == 3 * measured[10]["scale"]
    assert results["scale_10x_vs_1x"] == round(x10["total_s"] / real_1["total_s"], 2)
    assert [s["multiplier"] for s in results["scales"] if not s["measured"]] == [100]

    rss = [results["real"]["peak_rss_mb"], results["dagster"]["peak_rss_mb"], results["cold_cli"]["peak_rss_mb"]]
    rss += [s["result"]["peak_rss_mb"] for s in measured.values()]
    assert results["peak_rss_mb"] == max(rss) and all(_positive(x) for x in rss)

    health = measured[10]["result"]["health"]
    assert health["counts"]["users"] == 300 == results["health_users"]
    assert results["health_checks_100k_users_s"] == health["health_checks_s"]
    assert health["reimport_one_league"]["leagues"] == 1 and health["reimport_one_league"]["total_s"] > 0
    assert results["sensor_tick_1000_leagues_s"] == results["sensor"]["steady_tick_s"]
    assert results["sensor"]["first_tick_run_requests"] == 30


def test_every_import_succeeded(bench):
    results, _, _ = bench
    for run in results["dagster"]["runs"]:
        assert run["import_1"]["failed"] == [] and run["import_2"]["failed"] == []
    assert any("published" in line for line in results["cold_cli"]["output"])
    for imp in results["real"]["imports"]:
        assert imp["blocked"] == [] and imp["leagues"] == 3


def test_markdown_has_machine_table_targets_and_how_to_reproduce(bench):
    results, out, _ = bench
    text = (out / "BENCHMARKS.md").read_text()
    for part in (
        "## Machine",
        "## Targets",
        "## Import by scale",
        "## Baselines",
        "## Reproduce",
        "rally bench",
        results["machine"]["postgresql"],
        "not measured",
    ):
        assert part in text, part
    for key in REQUIRED:
        assert f"`{key}`" in text


def test_the_benchmark_databases_are_dropped(bench, server_url):
    _, _, before = bench
    assert _bench_databases(server_url) - before == set()


def test_the_cli_takes_the_bench_options():
    args = build_parser().parse_args(["bench", "--quick", "--json", "out.json"])
    assert args.func is _bench and args.quick and args.json == "out.json" and args.markdown is None
