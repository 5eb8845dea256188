"""The typed settings: defaults, types, unknown keys refused, values kept on disk."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QByteArray, QSettings

from enroller_desktop.ui.settings import DEFAULTS, Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))


def test_an_unset_key_gives_its_default(settings):
    assert settings.get("runs/max_concurrent") == DEFAULTS["runs/max_concurrent"] == 2


def test_an_unknown_key_is_refused_for_reading_and_writing(settings):
    with pytest.raises(KeyError, match="runs/max_concurent"):
        settings.get("runs/max_concurent")
    with pytest.raises(KeyError):
        settings.set("nonsense", 1)


def test_a_value_of_the_wrong_type_is_refused(settings):
    with pytest.raises(TypeError):
        settings.set("runs/max_concurrent", "3")
    with pytest.raises(TypeError):
        settings.set("table/sort_descending", 1)


def test_values_come_back_with_their_types_from_the_file(tmp_path):
    path = str(tmp_path / "s.ini")
    first = Settings(QSettings(path, QSettings.Format.IniFormat))
    first.set("runs/max_concurrent", 4)
    first.set("table/sort_descending", False)
    first.set("filters/statuses", ["error"])
    first.set("table/header_state", QByteArray(b"\x00\x01binary"))
    first.sync()
    second = Settings(QSettings(path, QSettings.Format.IniFormat))
    assert second.get("runs/max_concurrent") == 4
    assert second.get("table/sort_descending") is False
    assert second.get("filters/statuses") == ["error"]
    assert bytes(second.get("table/header_state")) == b"\x00\x01binary"


def test_a_damaged_value_falls_back_to_the_default(tmp_path):
    path = tmp_path / "s.ini"
    path.write_text("[runs]\nmax_concurrent=lots\n[filters]\nstatuses=not json\n")
    settings = Settings(QSettings(str(path), QSettings.Format.IniFormat))
    assert settings.get("runs/max_concurrent") == 2
    assert settings.get("filters/statuses") == []


def test_the_default_list_is_not_shared_between_reads(settings):
    settings.get("databases/recent").append("sqlite:///x")
    assert settings.get("databases/recent") == []
