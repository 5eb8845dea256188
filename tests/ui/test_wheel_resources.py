"""A wheel carries the resources and an installed program finds them."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from enroller_desktop import resources

ROOT = Path(__file__).resolve().parents[2]


def test_every_resource_file_is_a_data_file_of_the_wheel():
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["data-files"]
    shipped = {
        (Path(target) / path.name).relative_to("share/enroller-desktop/resources")
        for target, patterns in data_files.items()
        for pattern in patterns
        for path in ROOT.glob(pattern)
    }
    present = {path.relative_to(ROOT / "resources") for path in (ROOT / "resources").rglob("*") if path.is_file()}
    assert shipped == present


def test_an_installed_wheel_finds_its_resources_under_the_prefix(monkeypatch, tmp_path):
    installed = tmp_path / "lib" / "python3" / "site-packages" / "enroller_desktop" / "resources.py"
    monkeypatch.setattr(resources, "__file__", str(installed))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert resources.resource_dir() == tmp_path / "share" / "enroller-desktop" / "resources"
