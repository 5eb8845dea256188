"""Ctrl+F, type, read: the customer search and window driven as a person would."""

from __future__ import annotations


import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from enroller_desktop import explain
from enroller_desktop.ui.customer_window import CustomerSearch, CustomerWindow
from tests.explain.test_compare_window import _open_main


def _considered_customer(db):
    with db.read() as conn:
        return conn.execute(sa.text(
            "SELECT c.id, c.first_name, c.last_name FROM customers c WHERE c.id IN "
            "(SELECT customer_id FROM enroller_run_customers) AND c.last_name IS NOT NULL ORDER BY c.id")).first()


def test_ctrl_f_type_and_read_why_not_enrolled(qtbot, demo_db, tmp_path, shots):
    window = _open_main(qtbot, demo_db, tmp_path)
    person = _considered_customer(demo_db)
    qtbot.keyClick(window.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    search = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CustomerSearch) and w.isVisible())
    qtbot.waitUntil(lambda: search.organization.count() > 0, timeout=10_000)
    with demo_db.read() as conn:
        org = conn.execute(sa.text("SELECT organization_id FROM customers WHERE id = :c"), {"c": person.id}).scalar_one()
    search.organization.setCurrentIndex(search.organization.findData(org))
    with qtbot.waitSignal(search.results_shown, timeout=10_000):
        qtbot.keyClicks(search.text, f"{person.first_name} {person.last_name}")
    qtbot.waitUntil(lambda: any(f.id == person.id for f in search.found), timeout=10_000)
    search.results.selectRow(next(i for i, f in enumerate(search.found) if f.id == person.id))
    qtbot.keyClick(search.text, Qt.Key.Key_Return)
    customer = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CustomerWindow) and w.isVisible())
    qtbot.waitUntil(lambda: customer.story is not None, timeout=10_000)
    story = explain.customer_story(demo_db, person.id)
    table = customer.campaigns
    assert table.rowCount() == len(story["campaigns"])
    row = next(i for i, c in enumerate(story["campaigns"]) if c["last_run_id"])
    assert table.item(row, 4).text() == "\n".join(f"{r['vehicle']}: {r['reason'] or 'enrolled'}" for r in story["campaigns"][row]["reasons"])
    customer.resize(1200, 720)
    customer.grab().save(str(shots / f"customer-{demo_db.engine.dialect.name}.png"))
    run_window = customer.open_last_run(row)
    model = run_window.potentials_model
    qtbot.waitUntil(lambda: model.total is not None and not model.busy, timeout=10_000)
    assert model.listing.filter.customer_id == person.id
    assert model.total == len(story["campaigns"][row]["reasons"])
    assert run_window.tabs.currentWidget() is run_window.potentials_tab
    run_window.close()
    customer.close()
    window.close()
