"""The sole blockers in the run window: beside the funnel, per query param, and as
the Potentials filter "Failed only: …", driven as a person would."""

from __future__ import annotations


from PySide6.QtCore import Qt

from enroller_desktop.db import explain_queries as eq
from enroller_desktop.ui.run_window import show_run_window
from tests.explain.conftest import potentials_of, run_ids
from tests.explain.test_sole_blockers import python_blockers
from tests.pictures import assert_cells_drawn, shoot


def _busiest_run(db) -> int:
    return max(run_ids(db), key=lambda r: len(potentials_of(db, r)))


def _open(qtbot, db, run_id):
    window = show_run_window(db, run_id)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.sole_blockers.loaded, timeout=10_000):
        pass
    return window


def test_the_summary_shows_each_conditions_sole_and_shared_count(qtbot, demo_db, shots):
    run_id = _busiest_run(demo_db)
    window = _open(qtbot, demo_db, run_id)
    expected = python_blockers(potentials_of(demo_db, run_id))
    table = window.sole_blockers.run_table
    for row, name in enumerate(eq.CONDITIONS):
        assert table.item(row, 0).text() == eq.CONDITION_TITLES[name]
        assert table.item(row, 1).text() == f"{expected.alone[name]:,}"
        assert table.item(row, 2).text() == f"{expected.among_others[name]:,}"
    window.resize(1366, 768)
    picture = shoot(window, shots / f"summary-sole-blockers-{demo_db.engine.dialect.name}.png")
    model = table.model()
    assert_cells_drawn(picture, window, table, [model.index(row, column) for row in range(table.rowCount()) for column in range(3)])


def test_the_table_is_as_wide_as_its_content_and_the_funnel_gets_the_room(qtbot, demo_db):
    window = _open(qtbot, demo_db, _busiest_run(demo_db))
    qtbot.waitUntil(lambda: window.funnel_view.width() > 0)
    table = window.sole_blockers.run_table
    condition_text = max(table.fontMetrics().horizontalAdvance(table.item(row, 0).text()) for row in range(table.rowCount()))
    assert table.columnWidth(0) < condition_text + 40  # the words, a margin, no more
    assert table.width() == table.horizontalHeader().length() + 2 * table.frameWidth()
    # Beside the table, not above it: the funnel has the pane's whole height and the rest of its width.
    funnel = window.funnel_view.geometry()
    assert funnel.right() < table.mapTo(funnel_parent := window.funnel_view.parentWidget(), table.rect().topLeft()).x()
    assert funnel.height() > 2 * table.height()
    assert funnel.width() > funnel_parent.width() - table.width() - 40


def test_query_params_tab_shows_each_params_blockers(qtbot, demo_db, shots):
    run_id = _busiest_run(demo_db)
    window = _open(qtbot, demo_db, run_id)
    rows = potentials_of(demo_db, run_id)
    with demo_db.read() as conn:
        params = eq.query_param_blockers(conn, run_id)
    table = window.sole_blockers.param_table
    assert table.rowCount() == len(params)
    for row, param in enumerate(params):
        expected = python_blockers([r for r in rows if r["query_param_id"] == param.query_param_id])
        assert table.item(row, 0).text() == f"{param.process_order}. {param.name}"
        casl = 1 + eq.CONDITIONS.index("casl")
        assert table.item(row, casl).text() == f"{expected.alone['casl']:,} / {expected.among_others['casl']:,}"
    window.tabs.setCurrentIndex(1)
    window.resize(1366, 768)
    picture = shoot(window, shots / f"query-params-sole-blockers-{demo_db.engine.dialect.name}.png")
    model = table.model()
    assert_cells_drawn(picture, window, table, [model.index(row, column) for row in range(table.rowCount())
                                                for column in range(table.columnCount())])


def test_double_clicking_a_condition_lists_the_potentials_it_alone_holds_back(qtbot, demo_db):
    run_id = _busiest_run(demo_db)
    window = _open(qtbot, demo_db, run_id)
    blockers = window.sole_blockers.blockers
    name = max(eq.CONDITIONS, key=lambda n: blockers.alone[n])
    table = window.sole_blockers.run_table
    row = eq.CONDITIONS.index(name)
    rect = table.visualRect(table.model().index(row, 1))
    assert table.viewport().rect().contains(rect.center())
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentWidget() is window.potentials_tab
    assert window.potentials_tab.check_filter.currentText() == f"Failed only: {eq.CONDITION_TITLES[name].split(' (')[0]}"
    model = window.potentials_model
    qtbot.waitUntil(lambda: model.total is not None and not model.busy, timeout=10_000)
    assert model.total == blockers.alone[name] > 0
