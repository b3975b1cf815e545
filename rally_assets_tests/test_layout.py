"""The layout shows the architecture, and keeps it: the core imports no Dagster, no module is
over 600 lines, only the entry points sit flat in the package, and a built wheel carries the SQL."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile

import pytest

from rally_assets_tests.conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "rally_assets"
MAX_LINES = 600
FLAT_ALLOWED = {"__init__.py", "__main__.py", "definitions.py", "cli.py"}


def _imports(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_core_imports_neither_dagster_nor_the_dagster_layer():
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(
            n for n in _imports(path) if n.split(".")[0] == "dagster" or n.startswith("rally_assets.defs")
        )
        for path in (PACKAGE / "core").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(offenders) > 10  # the walk really saw the core


def test_no_module_is_over_600_lines():
    sizes = {str(p.relative_to(PROJECT_ROOT)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {k: n for k, n in sizes.items() if n > MAX_LINES} == {}


def test_only_the_entry_points_sit_flat_in_the_package():
    flat = {p.name for p in PACKAGE.glob("*.py")}
    assert flat <= FLAT_ALLOWED, flat - FLAT_ALLOWED
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")} >= {
        "core",
        "defs",
        "tooling",
    }


@pytest.mark.skipif(not (PROJECT_ROOT / "pyproject.toml").exists(), reason="not run from a source checkout")
def test_a_built_wheel_carries_every_sql_file(tmp_path):
    sql_files = {str(p.relative_to(PROJECT_ROOT)) for p in PACKAGE.rglob("*.sql")}
    assert sql_files, "the package holds .sql files"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(PROJECT_ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("rally_assets-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert sql_files <= set(archive.namelist())
