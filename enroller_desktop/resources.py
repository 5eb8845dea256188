"""Where the program's images and desktop file are: the ``resources/`` folder.

It sits beside the package in the source tree and in an editable install; at the
top of the bundle in the frozen program (``enroller_desktop.spec`` puts it there;
PyInstaller unpacks the bundle to ``sys._MEIPASS``); and under the prefix's
``share/enroller-desktop/`` in a wheel install (``pyproject.toml``'s data files).
No Qt here: :mod:`enroller_desktop.ui.theme` turns these files into icons.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP_ICON = "enroller-desktop.svg"
APP_ICON_SIZES = (16, 32, 48, 64, 128, 256)
DESKTOP_FILE = "enroller-desktop.desktop"


def resource_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    beside = Path(__file__).resolve().parent.parent / "resources"
    if beside.is_dir():
        return beside
    return Path(sys.prefix) / "share" / "enroller-desktop" / "resources"


def resource(*parts: str) -> Path:
    """A file under ``resources/``; FileNotFoundError names it when it is missing
    (a build that left it out must say what it left out)."""
    path = resource_dir().joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"resource missing: {path}")
    return path


def action_icon(name: str) -> Path:
    return resource("icons", f"{name}.svg")


def app_icon_png(size: int) -> Path:
    return resource("png", f"enroller-desktop-{size}.png")
