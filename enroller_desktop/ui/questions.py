"""The questions asked before something is lost or done in vain: closing a
window that has work waiting, canceling runs, creating a run that would be Not
Applicable. Each defaults to the harmless answer.

Reading (issue 17): closing with scheduled runs waiting says honestly what
happens: they run when they fall due only if a worker or another window is open
on the database; otherwise they wait, still Scheduled, until one is.

Reading (issue 15): workers register themselves and heartbeat. When one is alive
(it heartbeat within the minute), the question says that worker, by name, will
execute the scheduled runs, and Close is then the harmless answer (the default):
nothing waits on this window. A run executing *in this window* is another matter:
closing cancels it whatever the workers (a run in progress cannot be handed
over), so that question is unchanged.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from enroller_desktop.ui.time_format import without_organization
from enroller_desktop.ui.launcher import RunLauncher

Yes, No = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


def _ask(parent: QWidget, title: str, text: str, informative: str, yes: str, no: str, *,
         harmless: QMessageBox.StandardButton = No) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, text, Yes | No, parent)
    box.setInformativeText(informative)
    box.button(Yes).setText(yes)
    box.button(No).setText(no)
    box.setDefaultButton(harmless)
    box.setEscapeButton(No)
    return box.exec() == Yes


def may_close(parent: QWidget, launcher: RunLauncher) -> bool:
    """Whether the window may close; asks when runs execute in it or wait for it."""
    executing = len(launcher.executing)
    if executing:
        which = "1 run is" if executing == 1 else f"{executing} runs are"
        return _ask(
            parent, "Close the window?",
            f"{which} executing in this window.",
            "Closing cancels it: a canceled run enrolls nobody." if executing == 1
            else "Closing cancels them: a canceled run enrolls nobody.",
            "Cancel and close", "Keep open",
        )
    backlog = launcher.backlog
    if backlog is None or not backlog.scheduled:
        return True
    which = "1 scheduled run is" if backlog.scheduled == 1 else f"{backlog.scheduled:,} scheduled runs are"
    if backlog.live_workers:
        names = backlog.live_workers
        by = f"the worker {names[0]}" if len(names) == 1 else (
            f"the workers {', '.join(names[:-1])} and {names[-1]}" if len(names) <= 4 else f"{len(names)} workers")
        return _ask(
            parent, "Close the window?",
            f"{which} waiting, the first due {without_organization().shown(backlog.first_due)}.",
            f"{by[0].upper()}{by[1:]} will execute {'it' if backlog.scheduled == 1 else 'them'} as "
            f"{'it falls' if backlog.scheduled == 1 else 'they fall'} due: this window need not stay open "
            "(View › Workers shows what the workers do).",
            "Close", "Keep open", harmless=Yes,
        )
    return _ask(
        parent, "Close the window?",
        f"{which} waiting, the first due {without_organization().shown(backlog.first_due)}.",
        "This window executes scheduled runs as they fall due. Once it is closed they run "
        "only if a worker (enroller-desktop worker) or another Enroller Desktop window is "
        "open on this database; otherwise they stay Scheduled until one is.",
        "Close", "Keep open",
    )


def confirm_cancel(parent: QWidget, run_ids: list[int]) -> bool:
    which = f"run {run_ids[0]}" if len(run_ids) == 1 else f"{len(run_ids)} runs"
    return _ask(parent, "Cancel runs", f"Cancel {which}?", "A canceled run enrolls nobody.", "Cancel run" if len(run_ids) == 1 else "Cancel runs", "Keep")


def confirm_not_applicable(parent: QWidget, reason: str) -> bool:
    return _ask(
        parent, "Create a run that would be Not Applicable?",
        f"This run would end Not Applicable: {reason}.",
        "A Not Applicable run checks nobody and enrolls nobody; the reason is kept in its Summary. Create it anyway?",
        "Create anyway", "Go back",
    )
