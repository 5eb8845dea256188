"""Ctrl+F, type, read: the customer search and window driven as a person would."""

from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton

from enroller_desktop import explain
from enroller_desktop.times import ZoneChoice
from enroller_desktop.ui.customer_window import CustomerSearch, CustomerWindow, show_customer_window
from enroller_desktop.ui.main_window import MainWindow
from tests.builders import AS_OF, ENROLLMENTS, ORGANIZATIONS, RUNS, UTC, campaign, customer, execute, organization
from tests.explain.test_compare_window import _open_main
from tests.pictures import area_of, assert_cells_drawn, assert_not_blank, assert_text_whole, shoot
from tests.ui.answering import saving
from tests.ui.test_local_times import c_locale, choose_zone, computer_in_tokyo, expected_zone, wall_text  # noqa: F401 (fixtures)
from tests.ui.test_main_window import make_settings


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
    picture = shoot(customer, shots / f"customer-{demo_db.engine.dialect.name}.png")
    assert_cells_drawn(picture, customer, table, [table.model().index(row, column) for column in (0, 4)])
    run_window = customer.open_last_run(row)
    model = run_window.potentials_model
    qtbot.waitUntil(lambda: model.total is not None and not model.busy, timeout=10_000)
    assert model.listing.filter.customer_id == person.id
    assert model.total == len(story["campaigns"][row]["reasons"])
    assert run_window.tabs.currentWidget() is run_window.potentials_tab
    run_window.close()
    customer.close()
    window.close()


def test_the_run_windows_customer_filter_stays_while_other_filters_change_until_cleared(qtbot, demo_db, tmp_path, shots):
    """Opened from the customer window, the run's Potentials show that customer's
    only; a status or name filter changes the rows without losing the customer;
    the Customer button, then Clear filters, show every customer's again."""
    from PySide6.QtCore import Qt

    from enroller_desktop.ui.customer_window import show_customer_window

    person = _considered_customer(demo_db)
    customer = show_customer_window(demo_db, person.id)
    qtbot.addWidget(customer)
    qtbot.waitUntil(lambda: customer.story is not None, timeout=10_000)
    row = next(i for i, c in enumerate(customer.story["campaigns"]) if c["last_run_id"])
    run_window = customer.open_last_run(row)
    qtbot.addWidget(run_window)
    model = run_window.potentials_model

    def settled():
        qtbot.waitUntil(lambda: model.total is not None and not model.busy, timeout=10_000)
        return model.total

    with demo_db.read() as conn:
        run_id = model.listing.run_id
        everyone = conn.execute(sa.text("SELECT count(*) FROM enroller_run_customers WHERE run_id = :r"), {"r": run_id}).scalar_one()
        theirs = conn.execute(sa.text("SELECT status, count(*) FROM enroller_run_customers WHERE run_id = :r AND customer_id = :c "
                                      "GROUP BY status"), {"r": run_id, "c": person.id}).all()
    assert settled() == sum(n for _s, n in theirs)
    button = run_window.potentials_tab.customer_filter
    assert button.isVisible() and person.last_name in button.text()
    # Another filter: a status, by the keyboard on its box.
    status, count = theirs[0]
    run_window.potentials_tab.status_filter.setFocus()
    while run_window.potentials_tab.status_filter.currentData() != status:
        qtbot.keyClick(run_window.potentials_tab.status_filter, Qt.Key.Key_Down)
    assert settled() == count
    assert model.listing.filter.customer_id == person.id and model.listing.filter.status == status
    assert button.isVisible()
    # A name typed that is not theirs: none of their potentials, the customer kept.
    qtbot.keyClicks(run_window.potentials_tab.search, "zzzz")
    qtbot.keyClick(run_window.potentials_tab.search, Qt.Key.Key_Return)
    assert settled() == 0 and model.listing.filter.customer_id == person.id
    run_window.potentials_tab.search.clear()
    qtbot.keyClick(run_window.potentials_tab.search, Qt.Key.Key_Return)
    assert settled() == count
    run_window.resize(1300, 720)
    picture = shoot(run_window, shots / f"run-customer-filter-{demo_db.engine.dialect.name}.png")
    assert_not_blank(picture, area_of(run_window.potentials_tab.view.viewport(), run_window), what="the customer's potentials")
    assert_text_whole(button)
    # The Customer button removes it alone; the status stays.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    with demo_db.read() as conn:
        with_status = conn.execute(sa.text("SELECT count(*) FROM enroller_run_customers WHERE run_id = :r AND status = :s"),
                                   {"r": run_id, "s": status.value if hasattr(status, "value") else status}).scalar_one()
    assert settled() == with_status
    assert model.listing.filter.customer_id is None and not button.isVisible()
    # Clear filters removes it too.
    run_window.show_customer(person.id, f"{person.first_name} {person.last_name}")
    assert settled() == count and button.isVisible()
    qtbot.mouseClick(next(b for b in run_window.potentials_tab.findChildren(QPushButton) if b.text() == "Clear filters"),
                     Qt.MouseButton.LeftButton)
    assert settled() == everyone and not button.isVisible()
# -- times on the chosen clock (issue 11) --------------------------------------------

VANCOUVER = "America/Vancouver"


@pytest.fixture
def vancouver_customer(db):
    """A customer of a dealership in Vancouver, considered and enrolled by one run."""
    org = organization(db, "CA", name="Maple Motors")
    with db.write() as conn:
        conn.execute(sa.update(ORGANIZATIONS).where(ORGANIZATIONS.c.id == org).values(timezone=VANCOUVER))
    campaign_id = campaign(db, org)
    person = customer(db, org, vehicles=1)
    run_id = execute(db, campaign_id).id
    with db.read() as conn:
        created_at = conn.execute(sa.select(RUNS.c.created_at).where(RUNS.c.id == run_id)).scalar_one()
        enrolled_at = conn.execute(sa.select(ENROLLMENTS.c.enrolled_at).where(ENROLLMENTS.c.customer_id == person.id)).scalar_one()
    return person.id, run_id, created_at, enrolled_at


def open_customer(qtbot, db, customer_id: int, settings) -> CustomerWindow:
    window = show_customer_window(db, customer_id, settings=settings)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.story is not None, timeout=10_000)
    return window


def cell(model, row: int, key: str):
    return model.index(row, model.table.column_index(key))


@pytest.mark.parametrize("choice", list(ZoneChoice), ids=lambda c: c.value)
def test_the_customer_window_shows_every_time_on_the_chosen_clock(qtbot, db, tmp_path, c_locale, computer_in_tokyo,
                                                                 vancouver_customer, choice):
    customer_id, run_id, created_at, enrolled_at = vancouver_customer
    settings = make_settings(tmp_path)
    settings.set("view/time_zone", choice.value)
    window = open_customer(qtbot, db, customer_id, settings)
    zone = expected_zone(choice, VANCOUVER)

    last_run = window.campaigns.item(0, 2)
    assert last_run.text() == f"run {run_id} · {wall_text(AS_OF, zone)}"  # the run's as-of time
    assert last_run.toolTip().startswith(f"{AS_OF:%Y-%m-%dT%H:%M:%SZ} (UTC)")
    since = window.campaigns.item(0, 1)
    assert since.text().endswith(f"since {wall_text(enrolled_at, zone)}")
    assert since.toolTip().startswith(f"since {enrolled_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} (UTC)")
    assert window.zone_label.text() == f"Times in {zone}"

    potentials, enrollments = window.potentials_model, window.enrollments_model
    qtbot.waitUntil(lambda: potentials.rowCount() == 1 and enrollments.rowCount() == 1
                    and potentials.row_text(0, 0) is not None and enrollments.row_text(0, 0) is not None, timeout=10_000)
    for model, key, value in ((potentials, "run_created_at", created_at), (enrollments, "enrolled_at", enrolled_at)):
        assert cell(model, 0, key).data() == wall_text(value, zone)
        assert cell(model, 0, key).data(Qt.ItemDataRole.ToolTipRole).startswith(
            f"{value.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} (UTC)")


def test_the_customer_window_follows_a_change_of_the_zone_choice(qtbot, db, tmp_path, c_locale, vancouver_customer):
    customer_id, run_id, created_at, _enrolled_at = vancouver_customer
    settings = make_settings(tmp_path)
    main = MainWindow(db, settings=settings)
    qtbot.addWidget(main)
    window = open_customer(qtbot, db, customer_id, settings)
    potentials = window.potentials_model
    qtbot.waitUntil(lambda: potentials.row_text(0, 0) is not None, timeout=10_000)
    assert cell(potentials, 0, "run_created_at").data() == wall_text(created_at, VANCOUVER)
    with qtbot.waitSignal(potentials.page_loaded, timeout=10_000):
        choose_zone(main, ZoneChoice.UTC)
    assert cell(potentials, 0, "run_created_at").data() == wall_text(created_at, "UTC")
    assert window.campaigns.item(0, 2).text() == f"run {run_id} · {wall_text(AS_OF, 'UTC')}"
    main.close()  # the customer window closes (and is deleted) with the test


@pytest.mark.parametrize("as_shown", [False, True], ids=["iso-utc", "as-shown"])
def test_a_customer_csv_holds_iso_utc_unless_times_as_shown_is_ticked(qtbot, db, tmp_path, c_locale, vancouver_customer,
                                                                      as_shown):
    customer_id, _run_id, created_at, _enrolled_at = vancouver_customer
    window = open_customer(qtbot, db, customer_id, make_settings(tmp_path))
    window.tabs.setCurrentIndex(1)  # Potentials (every run)
    out = tmp_path / "potentials.csv"
    with qtbot.waitSignal(window.export_status.finished, timeout=10_000), saving(qtbot, out, times_as_shown=as_shown) as offered:
        qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert offered[0][1:] == (False, True)
    with open(out, encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    expected = wall_text(created_at, VANCOUVER) if as_shown else f"{created_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    assert row["Run Created At"] == expected
