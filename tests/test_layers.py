"""The layers of docs/ARCHITECTURE.md, guarded: every module's imports are read
with ``ast`` (nothing is imported or run), and an arrow pointing the wrong way
fails with the module and line that drew it.

- the engine knows no Qt, no window and no command line;
- the data layer knows none of the engine, the window or the command line;
- the no-Qt modules beside them (export, the index and detail definitions, the
  demo, configuration) import no Qt, no window and no command line;
- the window runs no SQL of its own: no SQL text, no SQLAlchemy statement
  builders, no ``execute`` on a connection.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "enroller_desktop"
QT = ("PySide6", "shiboken6", "pyqtgraph")
UI = "enroller_desktop.ui"
CLI = "enroller_desktop.cli"
ENGINE = "enroller_desktop.engine"
# Uppercase keywords as SQL is written; a window's words ("Select a run") never match.
SQL_TEXT = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA\s|CREATE\s+(TABLE|INDEX))\b", re.S)
# What the window may take from SQLAlchemy: parsing URLs, a row type for annotations,
# the version for About. Nothing that builds or runs a statement.
UI_SQLALCHEMY_NAMES = {"make_url", "Row", "URL", "ArgumentError"}
UI_FORBIDDEN_CALLS = {"execute", "exec_driver_sql", "scalars", "scalar"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(*prefixes: str) -> list[Path]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if "migrations" in path.parts:
            continue
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            found.append(path)
    return found


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import, at any depth (lazy imports count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def where(path: Path) -> Path:
    return path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) else path


def wrong_arrows(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{where(path)}:{line} imports {module}"
        for line, module, _names in imports(path)
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    ]


def test_the_package_has_the_layers_this_test_names():
    assert modules(ENGINE), "engine/ not found"
    assert modules("enroller_desktop.db"), "db/ not found"
    assert modules(UI), "ui/ not found"


@pytest.mark.parametrize("path", modules(ENGINE), ids=lambda p: p.name)
def test_the_engine_imports_no_qt_window_or_command_line(path):
    assert wrong_arrows(path, QT + (UI, CLI)) == []


@pytest.mark.parametrize("path", modules("enroller_desktop.db"), ids=lambda p: p.name)
def test_the_data_layer_imports_no_engine_window_or_command_line(path):
    assert wrong_arrows(path, QT + (UI, CLI, ENGINE, "enroller_desktop.export")) == []


NO_QT_MODULES = [
    path
    for path in modules("enroller_desktop")
    if not module_name(path).startswith((UI, CLI, ENGINE, "enroller_desktop.db"))
    and module_name(path) not in ("enroller_desktop.__main__", "enroller_desktop")
]


@pytest.mark.parametrize("path", NO_QT_MODULES, ids=lambda p: p.name)
def test_modules_beside_the_layers_import_no_qt_window_or_command_line(path):
    assert wrong_arrows(path, QT + (UI, CLI)) == []


@pytest.mark.parametrize("path", modules(UI), ids=lambda p: p.name)
def test_the_window_runs_no_sql_of_its_own(path):
    assert sql_faults(path) == []


def sql_faults(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    faults = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bare_for_version = alias.name == "sqlalchemy" and alias.asname is None and _only_version_used(tree)
                if alias.name.startswith("sqlalchemy") and not bare_for_version:
                    faults.append(f"{where(path)}:{node.lineno} imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            extra = {alias.name for alias in node.names} - UI_SQLALCHEMY_NAMES
            if extra:
                faults.append(f"{where(path)}:{node.lineno} imports {sorted(extra)} from {node.module}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.search(node.value):
            faults.append(f"{where(path)}:{node.lineno} has SQL text {node.value[:40]!r}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in UI_FORBIDDEN_CALLS
            # A connection is a plain name (``conn.execute``); ``self.launcher.execute(run_id)`` executes a run.
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id != "self"
        ):
            faults.append(f"{where(path)}:{node.lineno} calls .{node.func.attr}()")
    return faults


def _only_version_used(tree: ast.AST) -> bool:
    uses = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sqlalchemy"
    ]
    return set(uses) <= {"__version__"}


def test_the_checks_catch_a_wrong_arrow_and_sql_in_a_widget(tmp_path):
    """The checks above see a violation: proven on a module written to break them."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import sqlalchemy as sa\n"
        "def f(conn):\n"
        "    from PySide6.QtCore import QObject\n"
        "    conn.execute(sa.text('SELECT id FROM enroller_runs'))\n"
    )
    assert wrong_arrows(bad, QT) == [f"{bad}:3 imports PySide6.QtCore"]
    assert len(sql_faults(bad)) == 3  # the import, the SQL text, the execute
    assert not SQL_TEXT.search("Select a run from the list")
