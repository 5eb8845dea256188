"""The Compare window, opened from the main window as a person would: two runs of
one campaign selected, then Ctrl+D."""

from __future__ import annotations

import csv

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from enroller_desktop import explain
from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.ui.compare_window import KIND_CHOICES, CompareWindow
from enroller_desktop.ui.main_window import MainWindow
from tests.explain.test_compare import python_comparison
from tests.pictures import area_of, assert_cells_drawn, assert_not_blank, shoot
from tests.ui.answering import saving
from tests.ui.test_main_window import make_settings, row_centre


def _two_rows_of_one_campaign(window: MainWindow) -> tuple[int, int]:
    """Two loaded rows of one campaign whose runs differ."""
    runs = [window.model.run_at(row) for row in range(window.model.rowCount())]
    for i, first in enumerate(runs):
        for j in range(i + 1, len(runs)):
            second = runs[j]
            if first and second and (first.organization, first.campaign) == (second.organization, second.campaign):
                got = explain.comparison(window.db, first.id, second.id)
                if got.entered + got.left + got.lost_eligibility + got.became_eligible:
                    return i, j
    raise AssertionError("no two runs of one campaign that differ")


def _open_main(qtbot, db, tmp_path) -> MainWindow:
    window = MainWindow(db, settings=make_settings(tmp_path))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitUntil(lambda: not window.model.busy and window.model.rowCount() > 0, timeout=10_000)
    return window


def test_ctrl_d_on_two_selected_runs_opens_the_comparison(qtbot, demo_db, tmp_path, shots):
    window = _open_main(qtbot, demo_db, tmp_path)
    first, second = _two_rows_of_one_campaign(window)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(window, first, 1))
    alone = window.model.run_at(first)
    assert window.compare_action.isEnabled() == (alone.status is RunStatus.COMPLETED
                                                 and explain.has_potentials(alone.purpose, alone.status))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     pos=row_centre(window, second, 1))
    assert window.compare_action.isEnabled()
    qtbot.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    compare = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CompareWindow) and w.isVisible())
    qtbot.waitUntil(lambda: compare.comparison is not None, timeout=10_000)
    ids = sorted((window.model.run_at(first).id, window.model.run_at(second).id))
    expected = python_comparison(demo_db, compare.comparison.run_a, compare.comparison.run_b)
    assert sorted((compare.comparison.run_a, compare.comparison.run_b)) == ids
    assert compare.comparison.as_dict() == expected
    shown = {compare.counts.item(r, 0).text(): compare.counts.item(r, 1).text() for r in range(compare.counts.rowCount())}
    assert shown["Entered"] == f"{expected['entered']:,}"
    assert shown["Lost eligibility"] == f"{expected['lost_eligibility']:,}"
    qtbot.waitUntil(lambda: compare.model.total is not None and not compare.model.busy, timeout=10_000)
    compare.resize(1100, 720)
    picture = shoot(compare, shots / f"compare-{demo_db.engine.dialect.name}.png")
    counts = compare.counts.model()
    assert_cells_drawn(picture, compare, compare.counts, [counts.index(r, c) for r in range(counts.rowCount()) for c in (0, 1)])
    assert_not_blank(picture, area_of(compare.view.viewport(), compare), what="the differences")
    compare.close()
    window.close()


def test_the_list_filters_by_kind_of_change_and_exports_what_it_lists(qtbot, demo_db, tmp_path):
    window = _open_main(qtbot, demo_db, tmp_path)
    first, second = _two_rows_of_one_campaign(window)
    compare = CompareWindow(demo_db, window.model.run_at(first).id, window.model.run_at(second).id)
    qtbot.addWidget(compare)
    with qtbot.waitSignal(compare.loaded, timeout=10_000):
        pass
    model = compare.model
    qtbot.waitUntil(lambda: model.total is not None and not model.busy, timeout=10_000)
    everything = model.total
    assert everything > 0
    kinds = [k for _t, k in KIND_CHOICES]
    counted = compare.comparison
    for kind, expected in (("entered", counted.entered), ("left", counted.left), ("lost_eligibility", counted.lost_eligibility)):
        compare.kind_filter.setCurrentIndex(kinds.index(kind))
        qtbot.waitUntil(lambda: model.total is not None and not model.busy, timeout=10_000)
        assert model.total == expected, kind
        if expected:
            change = explain.DIFFERENCES.column_index("change")
            qtbot.waitUntil(lambda: model.index(0, change).data() is not None, timeout=10_000)
            assert model.index(0, change).data() == explain.CHANGE_TITLES[kind]
    compare.kind_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: model.total == everything and not model.busy, timeout=10_000)
    out = tmp_path / "differences.csv"
    with qtbot.waitSignal(compare.export_finished, timeout=20_000) as finished, saving(qtbot, out) as offered:
        compare.export_list()
    assert finished.args == [everything]
    assert offered == [("Times as shown (this table has no times)", False, False)]
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == explain.DIFFERENCES.titles and len(rows) == everything + 1
    window.close()


def test_runs_of_two_campaigns_are_refused_in_words(qtbot, demo_db):
    from tests.explain.test_compare import runs_by_campaign

    grouped = runs_by_campaign(demo_db)
    one, two = sorted(grouped)[:2]
    compare = CompareWindow(demo_db, grouped[one][0], grouped[two][0])
    qtbot.addWidget(compare)
    with qtbot.waitSignal(compare.refused, timeout=10_000) as refused:
        pass
    assert "different campaigns" in refused.args[0]
    assert "different campaigns" in compare.header.text()


def _shown(qtbot, model, column: int) -> list[str]:
    qtbot.waitUntil(lambda: model.total is not None and not model.busy, timeout=10_000)
    qtbot.waitUntil(lambda: all(model.index(r, column).data() is not None for r in range(model.rowCount())), timeout=10_000)
    return [model.index(r, column).data() for r in range(model.rowCount())]


def test_a_click_on_a_header_sorts_the_list_and_the_sort_stays_through_the_filter_and_the_export(qtbot, demo_db, tmp_path, shots):
    from tests.explain.test_compare import _FOLD
    from tests.ui.test_main_window import click_header

    window = _open_main(qtbot, demo_db, tmp_path)
    first, second = _two_rows_of_one_campaign(window)
    compare = CompareWindow(demo_db, window.model.run_at(first).id, window.model.run_at(second).id)
    qtbot.addWidget(compare)
    compare.resize(1100, 720)
    compare.show()
    with qtbot.waitSignal(compare.loaded, timeout=10_000):
        pass
    model = compare.model
    last_name = explain.DIFFERENCES.column_index("last_name")
    unsorted = _shown(qtbot, model, last_name)
    assert model.listing.sort is None
    click_header(qtbot, compare, last_name)
    qtbot.waitUntil(lambda: model.listing.sort == "last_name", timeout=5_000)
    ascending = _shown(qtbot, model, last_name)
    assert sorted(ascending) == sorted(unsorted)
    folded = [name.translate(_FOLD) or "\U0010ffff" for name in ascending]
    assert folded == sorted(folded)
    click_header(qtbot, compare, last_name)
    qtbot.waitUntil(lambda: model.listing.descending, timeout=5_000)
    descending = _shown(qtbot, model, last_name)
    folded = [name.translate(_FOLD) or "\U0010ffff" for name in descending]
    assert folded == sorted(folded, reverse=True)
    assert compare.view.horizontalHeader().sortIndicatorSection() == last_name
    picture = shoot(compare, shots / f"compare-sorted-{demo_db.engine.dialect.name}.png")
    assert_cells_drawn(picture, compare, compare.view, [model.index(row, last_name) for row in range(3) if model.index(row, last_name).data()])

    # Another column, then a filter: the filter keeps the sort.
    change = explain.DIFFERENCES.column_index("change")
    click_header(qtbot, compare, change)
    qtbot.waitUntil(lambda: model.listing.sort == "change" and not model.listing.descending, timeout=5_000)
    changes = _shown(qtbot, model, change)
    assert changes == sorted(changes)
    kinds = [k for _t, k in KIND_CHOICES]
    compare.kind_filter.setCurrentIndex(kinds.index("checks_changed"))
    qtbot.waitUntil(lambda: model.listing.kind == "checks_changed", timeout=5_000)
    assert model.listing.sort == "change"
    shown = _shown(qtbot, model, change)
    assert shown == sorted(shown) and set(shown) <= {"Checks changed", "Became eligible", "Lost eligibility"}
    out = tmp_path / "sorted.csv"
    with qtbot.waitSignal(compare.export_finished, timeout=20_000):
        compare.start_export(str(out))
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert [row[change] for row in rows[1:]] == shown
    window.close()


def test_ctrl_d_on_one_run_compares_it_with_the_run_before_it(qtbot, demo_db, tmp_path):
    """"What changed since yesterday's run?": one click on today's run, Ctrl+D."""
    window = _open_main(qtbot, demo_db, tmp_path)
    runs = [window.model.run_at(row) for row in range(window.model.rowCount())]  # newest first
    row, newest = next((row, run) for row, run in enumerate(runs)
                       if run.purpose is RunPurpose.DEFAULT and run.status is RunStatus.COMPLETED
                       and any(other.campaign_id == run.campaign_id and other.purpose is RunPurpose.DEFAULT
                               and other.status is RunStatus.COMPLETED for other in runs[row + 1:]))
    before = next(other for other in runs[row + 1:] if other.campaign_id == newest.campaign_id
                  and other.purpose is RunPurpose.DEFAULT and other.status is RunStatus.COMPLETED)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(window, row, 1))
    assert window.compare_action.isEnabled()
    qtbot.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(isinstance(w, CompareWindow) and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=10_000)
    compare = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CompareWindow) and w.isVisible())
    qtbot.waitUntil(lambda: compare.comparison is not None, timeout=10_000)
    assert (compare.comparison.run_a, compare.comparison.run_b) == (before.id, newest.id)
    assert compare.comparison.as_dict() == python_comparison(demo_db, before.id, newest.id)
    compare.close()
    window.close()


def test_ctrl_d_on_the_first_run_of_a_campaign_says_there_is_none_before(qtbot, demo_db, tmp_path):
    window = _open_main(qtbot, demo_db, tmp_path)
    runs = [window.model.run_at(row) for row in range(window.model.rowCount())]
    row, first = next((row, run) for row, run in reversed(list(enumerate(runs)))
                      if run.status is RunStatus.COMPLETED and explain.has_potentials(run.purpose, run.status)
                      and explain.previous_run(demo_db, run.id) is None)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(window, row, 1))
    with qtbot.waitSignal(window.statusBar().messageChanged, timeout=10_000,
                          check_params_cb=lambda text: "no earlier one" in text):
        qtbot.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert f"Run {first.id} is the first completed" in window.statusBar().currentMessage()
    assert not any(isinstance(w, CompareWindow) and w.isVisible() for w in QApplication.topLevelWidgets())
    window.close()
