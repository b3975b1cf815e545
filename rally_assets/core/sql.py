"""Long SQL kept in `.sql` files beside the module that runs it (package data: a wheel carries them)."""

from __future__ import annotations

from importlib import resources


def load_sql(module: str, name: str) -> str:
    """The text of `sql/<name>` beside `module` (pass __name__)."""
    package = module.rpartition(".")[0]
    return resources.files(package).joinpath("sql", name).read_text(encoding="utf-8")
