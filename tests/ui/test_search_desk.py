"""Search by name without regard to accents or case, in every search box, on
both databases; an empty result says so in the table."""

from __future__ import annotations

import sqlalchemy as sa

from enroller_desktop.db import models as m
from enroller_desktop.db import choice_queries
from enroller_desktop.db.folding import fold

from tests.builders import add_organizations, build_run
from .test_run_window import loaded, open_window

NAMES = [("José", "Gutiérrez"), ("Jürgen", "Größ"), ("Zoë", "Ångström"), ("ANNE", "O'Brien"), ("Łukasz", "Wałęsa")]


def test_fold_takes_off_case_and_accents():
    assert fold("Gutiérrez") == fold("GUTIERREZ") == "gutierrez"
    assert fold("Größ") == fold("grOSS") == "gross"
    assert fold("Łódź Æther") == "lodz aether"


def rename_potentials(db, run_id: int) -> None:
    table = m.EnrollerRunCustomer.__table__
    with db.write() as conn:
        ids = conn.execute(sa.select(table.c.id).where(table.c.run_id == run_id).order_by(table.c.id)).scalars().all()
        for potential_id, (first, last) in zip(ids, NAMES):
            conn.execute(sa.update(table).where(table.c.id == potential_id).values(first_name=first, last_name=last))


def search_for(qtbot, window, text: str) -> list[str]:
    window.potentials_tab.search.setText(text)
    window.potentials_tab.search.returnPressed.emit()
    qtbot.waitUntil(lambda: window.potentials_model.listing.filter.name == text.strip(), timeout=10_000)
    model = loaded(qtbot, window.potentials_model)
    column = model.table.column_index("last_name")
    return [model.index(row, column).data() for row in range(model.rowCount())]


def test_the_potentials_search_ignores_accents_and_case(qtbot, db):
    run_id = build_run(db).run_id
    rename_potentials(db, run_id)
    window = open_window(qtbot, db, run_id)
    assert search_for(qtbot, window, "gutierrez") == ["Gutiérrez"]
    assert search_for(qtbot, window, "größ") == ["Größ"]
    assert search_for(qtbot, window, "GROSS") == ["Größ"]
    assert search_for(qtbot, window, "angstrom") == ["Ångström"]
    assert search_for(qtbot, window, "jose gutierrez") == ["Gutiérrez"]
    assert search_for(qtbot, window, "walesa") == ["Wałęsa"]
    assert search_for(qtbot, window, "anne") == ["O'Brien"]


def test_an_empty_search_result_says_so_in_the_table(qtbot, db):
    run_id = build_run(db).run_id
    window = open_window(qtbot, db, run_id)
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window.potentials_tab)
    assert search_for(qtbot, window, "nobody-has-this-name") == []
    notice = window.potentials_tab.empty_notice.label
    qtbot.waitUntil(notice.isVisible, timeout=5_000)
    assert "nobody-has-this-name" in notice.text()
    assert search_for(qtbot, window, "") != []
    assert not notice.isVisible()


def test_the_new_run_customer_search_ignores_accents_and_case(db):
    ids = add_organizations(db)
    org = ids["Maple Motors"]
    with db.write() as conn:
        for first, last in NAMES:
            conn.execute(sa.insert(m.Customer.__table__).values(organization_id=org, first_name=first, last_name=last))
    with db.read() as conn:
        def found(text):
            return [c.last_name for c in choice_queries.customer_choices(conn, org, text)]
        assert found("gutierrez") == ["Gutiérrez"]
        assert found("GRÖSS") == ["Größ"]
        assert found("zoe angstrom") == ["Ångström"]


def test_the_new_run_customer_search_finds_accented_names_and_says_when_none_match(qtbot, db):
    from PySide6.QtCore import Qt

    from enroller_desktop.db.enums import RunPurpose
    from enroller_desktop.ui.new_run_dialog import NewRunDialog

    ids = add_organizations(db)
    org = ids["Maple Motors"]
    with db.write() as conn:
        for first, last in NAMES:
            conn.execute(sa.insert(m.Customer.__table__).values(organization_id=org, first_name=first, last_name=last))
    dialog = NewRunDialog(db, organization_id=org)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.organization.findData(org) >= 0, timeout=10_000)
    dialog.organization.setCurrentIndex(dialog.organization.findData(org))
    dialog.purpose.setCurrentIndex(dialog.purpose.findData(RunPurpose.CUSTOMER_EVALUATION))
    qtbot.keyClicks(dialog.customer_search, "gutierrez")
    qtbot.waitUntil(lambda: dialog.customers.count() == 1 and dialog.chosen_customer() is not None, timeout=10_000)
    assert "Gutiérrez" in dialog.customers.item(0).text()
    dialog.customer_search.clear()
    qtbot.keyClicks(dialog.customer_search, "nobody-has-this-name")
    qtbot.waitUntil(lambda: dialog.customers.count() == 1 and "No customer" in dialog.customers.item(0).text(), timeout=10_000)
    assert dialog.customers.item(0).flags() == Qt.ItemFlag.NoItemFlags
    assert dialog.chosen_customer() is None
    dialog.reject()


def test_a_filter_that_matches_no_run_says_so_in_the_runs_table(qtbot, sqlite_db, tmp_path):
    from enroller_desktop.db.enums import RunStatus

    from tests.builders import add_runs
    from .test_index_columns_fit import open_at

    add_runs(sqlite_db, add_organizations(sqlite_db), 4)
    window = open_at(qtbot, sqlite_db, tmp_path, 1366, 768)
    qtbot.waitUntil(lambda: window.model.rowCount() == 4, timeout=10_000)
    notice = window.empty_notice.label
    assert not notice.isVisible()
    dock = window.filter_dock
    for box in dock.statuses.values():
        box.setChecked(False)
    dock.statuses[RunStatus.SCHEDULED].setChecked(True)
    dock.statuses[RunStatus.SCHEDULED].setChecked(False)
    dock.apply_now()
    qtbot.waitUntil(notice.isVisible, timeout=10_000)
    assert "No runs match" in notice.text()
    window.close()
