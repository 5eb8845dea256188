"""The funnel and the Potentials filters as a desk user meets them: bars beside
the words, an all-zero funnel, the keyboard, and a Check filter that counts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from enroller_desktop.db.enums import CHANNEL_CHECKS, Check, RunPurpose, RunStatus
from enroller_desktop.db.stages import FunnelBox, FunnelSlice
from enroller_desktop.ui.funnel import FunnelScene, FunnelView
from tests.builders import build_run, engine_run

from .test_run_window import loaded, open_window


def run_with(counts: list[int | None], purpose: RunPurpose = RunPurpose.DEFAULT,
             status: RunStatus = RunStatus.COMPLETED) -> SimpleNamespace:
    return SimpleNamespace(purpose=purpose, status=status, **{box.stage.column: count for box, count in zip(FunnelBox, counts)})


@pytest.mark.parametrize("counts", [
    [1000, 0, 0, 0, 0],
    [1000, 1, 1, 1, 1],
    [1000, 500, 500, 500, 500],
    [1000, 1000, 1000, 1000, 1000],
    [1_234_567, 999_999, 500_000, 1, 0],
], ids=["zero", "one", "half", "whole", "mixed"])
def test_no_bar_runs_under_its_box_words(qtbot, counts):
    scene = FunnelScene()
    scene.set_run(run_with(counts))
    for box, item in scene.boxes.items():
        bar = item.mapRectToScene(item.bar_rect)
        assert item.text_rects, box
        for text in item.text_rects:
            assert not bar.intersects(item.mapRectToScene(text)), (box, item.lines)
        track = item.mapRectToScene(item.track_rect)
        assert track.left() <= bar.left() <= bar.right() <= track.right() + 0.01


def test_an_all_zero_funnel_draws_no_bar(qtbot):
    scene = FunnelScene()
    scene.set_run(run_with([0, 0, 0, 0, 0]))
    assert [item.bar_width for item in scene.boxes.values()] == [0] * len(FunnelBox)


def test_the_whole_box_has_the_whole_bar_and_half_half(qtbot):
    scene = FunnelScene()
    scene.set_run(run_with([1000, 500, 500, 0, 0]))
    whole = scene.boxes[FunnelBox.QUERY_PARAM_CUSTOMERS]
    assert whole.bar_width == pytest.approx(whole.track_rect.width())
    assert scene.boxes[FunnelBox.POTENTIAL_CUSTOMERS].bar_width == pytest.approx(whole.track_rect.width() / 2)


def test_a_criterion_stats_funnel_offers_no_list(qtbot):
    scene = FunnelScene()
    scene.set_run(run_with([40, None, None, None, None], RunPurpose.CRITERION_STATS))
    assert not any(item.isEnabled() for item in scene.items_in_order)
    assert scene.boxes[FunnelBox.POTENTIAL_CUSTOMERS].lines[1] == "not counted by Criterion Stats"


def test_valid_potentials_and_enrolled_say_their_index_names(qtbot):
    scene = FunnelScene()
    scene.set_run(run_with([10, 8, 6, 4, 2]))
    assert "Eligible" in scene.boxes[FunnelBox.VALID_POTENTIALS].lines[-1]
    assert "Success" in scene.boxes[FunnelBox.ENROLLED].lines[-1]
    assert [box.label for box in FunnelBox] == ["Query Param Customers", "Potential Customers", "Potential Events", "Valid Potentials", "Enrolled"]


def test_the_funnel_is_reached_and_activated_by_keyboard(qtbot, db):
    window = open_window(qtbot, db, engine_run(db, RunPurpose.DEFAULT))
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    view: FunnelView = window.funnel_view
    view.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(view.hasFocus)
    scene = window.funnel_scene
    assert scene.focusItem() is scene.boxes[FunnelBox.QUERY_PARAM_CUSTOMERS]
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert scene.focusItem() is scene.arrows[FunnelBox.POTENTIAL_CUSTOMERS]
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert scene.focusItem() is scene.boxes[FunnelBox.POTENTIAL_CUSTOMERS]
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert window.tabs.currentWidget() is window.potentials_tab
    wanted = FunnelSlice(FunnelBox.POTENTIAL_CUSTOMERS)
    qtbot.waitUntil(lambda: window.potentials_model.listing.filter.funnel == wanted)
    assert loaded(qtbot, window.potentials_model).total == scene.boxes[FunnelBox.POTENTIAL_CUSTOMERS].count


def test_the_tab_key_reaches_the_funnel(qtbot, db):
    window = open_window(qtbot, db, build_run(db).run_id)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    seen = set()
    for _ in range(12):
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Tab)
        seen.add(window.focusWidget())
    assert window.funnel_view in seen


def test_each_check_choice_counts_the_rows_it_would_show(qtbot, db):
    window = open_window(qtbot, db, build_run(db).run_id)
    choices = window.potentials_tab.check_filter
    qtbot.waitUntil(lambda: choices.counts is not None, timeout=10_000)
    failed_somewhere = 0
    checks = {check.value for check in Check}
    for index in range(1, choices.count()):
        if choices.itemData(index) not in checks:
            continue  # a "Failed only" condition: not counted
        check = Check(choices.itemData(index))
        assert choices.itemText(index).endswith(f"({choices.counts[check]:,})")
        choices.setCurrentIndex(index)
        qtbot.waitUntil(lambda check=check: window.potentials_model.listing.filter.failed_check is check, timeout=10_000)
        assert loaded(qtbot, window.potentials_model).total == choices.counts[check], check
        failed_somewhere += choices.counts[check]
    assert failed_somewhere > 0


def test_the_check_counts_follow_the_other_filters(qtbot, db):
    window = open_window(qtbot, db, engine_run(db, RunPurpose.DEFAULT))
    choices = window.potentials_tab.check_filter
    qtbot.waitUntil(lambda: choices.counts is not None, timeout=10_000)
    everyone = dict(choices.counts)
    with qtbot.waitSignal(choices.counted, timeout=10_000):
        window.show_funnel_slice(FunnelSlice(FunnelBox.ENROLLED))
    # The enrolled passed every check but the channels they do not use.
    assert choices.counts != everyone and all(choices.counts[check] <= everyone[check] for check in Check)
    assert all(choices.counts[check] == 0 for check in Check if check not in CHANNEL_CHECKS)
