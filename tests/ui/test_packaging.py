"""What the packaged program relies on, checked without building it (CI builds and
starts it: make package-smoke): the resources are found in each layout, the icons
and desktop file are whole, every hidden import of the spec exists, and the window
never imports a Qt module the spec leaves out."""

from __future__ import annotations

import ast
import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from enroller_desktop import resources
from enroller_desktop.resources import APP_ICON_SIZES, DESKTOP_FILE, resource, resource_dir

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "enroller_desktop.spec"
# pyqtgraph imports these when present and does without them when not.
PYQTGRAPH_TRIES = {"PySide6.QtTest"}
ACTION_ICONS = ("new-run", "cancel", "export", "refresh", "open-database", "connect", "filter", "trends", "view", "find-customer")


def spec_strings(name: str) -> list[str]:
    """The string constants written in the spec's ``name = [...]`` assignment."""
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return [c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    raise AssertionError(f"{name} not in {SPEC.name}")


def test_resources_are_found_beside_the_package_in_the_source_tree():
    assert resource_dir() == ROOT / "resources"


def test_resources_are_found_in_the_frozen_bundle(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resource_dir() == tmp_path / "resources"


def test_a_missing_resource_is_named():
    with pytest.raises(FileNotFoundError, match="nowhere.svg"):
        resource("icons", "nowhere.svg")


@pytest.mark.parametrize("name", ACTION_ICONS)
def test_each_action_icon_is_an_svg_drawn_in_the_text_colour(name):
    text = resources.action_icon(name).read_text(encoding="utf-8")
    assert text.lstrip().startswith("<svg") and "currentColor" in text


@pytest.mark.parametrize("size", APP_ICON_SIZES)
def test_each_application_icon_png_is_the_size_its_name_says(qapp, size):
    image = QImage(str(resources.app_icon_png(size)))
    assert (image.width(), image.height()) == (size, size)


def test_the_desktop_file_starts_the_program_with_its_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(resource(DESKTOP_FILE), encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[0] == "enroller-desktop"
    assert desktop["Icon"] == Path(resources.APP_ICON).stem
    assert desktop["Terminal"] == "false"


def test_every_hidden_import_of_the_spec_exists():
    names = [n for n in spec_strings("HIDDEN_IMPORTS") if not n.startswith(("keyring.backends.Windows", "keyring.backends.macOS"))]
    script = "import importlib, sys\nfor n in sys.argv[1:]:\n    importlib.import_module(n)\n"
    subprocess.run([sys.executable, "-c", script, *names], check=True, timeout=120)


def test_the_windows_import_no_qt_module_the_spec_leaves_out():
    unused = {f"PySide6.{m}" for m in spec_strings("UNUSED_QT") if m.startswith("Qt")}
    script = (
        "import sys\n"
        "import enroller_desktop.cli, enroller_desktop.ui.app, enroller_desktop.ui.main_window\n"
        "import enroller_desktop.ui.run_window, enroller_desktop.ui.trends, pyqtgraph\n"
        "print(' '.join(m for m in sys.modules if m.startswith('PySide6.')))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120, env=env)
    imported = set(out.stdout.split())
    assert "PySide6.QtWidgets" in imported
    assert not (imported - PYQTGRAPH_TRIES) & unused


def test_the_window_reads_only_the_image_formats_the_spec_keeps():
    """The spec keeps SVG's image-format plugin alone (PNG is built into Qt); the
    .ico is the Windows program file's icon, and the .service the worker's systemd
    unit: Qt reads neither."""
    read_by_qt = {p.suffix for p in (ROOT / "resources").rglob("*") if p.is_file() and p.suffix not in (".ico", ".service")}
    assert read_by_qt == {".svg", ".png", ".desktop"}
    spec = SPEC.read_text(encoding="utf-8")
    assert '"imageformats/libq' in spec and '"svg"' not in spec and '"png"' not in spec


def test_the_main_window_starts_without_pyqtgraph():
    """pyqtgraph and numpy cost the first launch a few tenths of a second: they are
    imported when Trends, a chart or a run window first needs them, not with the window."""
    script = "import sys\nimport enroller_desktop.ui.main_window\nprint(sorted({'pyqtgraph', 'numpy'} & set(sys.modules)))\n"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120, env=env)
    assert out.stdout.strip() == "[]"
