"""Windows under test execute due scheduled runs only when a test asks for it:
the rows most tests write are a picture of a database (scheduled runs long
overdue among them), not work to do. ``tests/ui/test_launcher.py`` and the New Run
tests turn it on."""

from __future__ import annotations

import pytest

from enroller_desktop.ui import settings


@pytest.fixture(autouse=True)
def _windows_leave_due_runs_alone(monkeypatch):
    monkeypatch.setitem(settings.DEFAULTS, "runs/execute_due", False)
