"""The enroller engine: criteria, contact verdicts, the funnel, expiry and the run
lifecycle. Plain Python and SQL, no Qt: the command line, the worker and the
window all drive it the same way.

Public entry points (``enroller_desktop.engine.runs``):

- ``create_run(db, *, campaign_id, purpose=RunPurpose.DEFAULT, customer_id=None,
  as_of=None, scheduled_for=None) -> int`` — a ``scheduled`` run row; bad
  arguments raise :class:`~enroller_desktop.errors.UserError`.
- ``execute_run(db, run_id, *, progress=None, cancel=None) -> RunOutcome`` —
  claims the scheduled run and executes it; ``progress(fraction, message)`` is
  called between statements, ``cancel`` is a :class:`CancelToken`.
- ``cancel_run(db, run_id) -> RunStatus`` — cancels a scheduled run at once, asks
  an in-progress one to stop; a finished or missing run raises ``UserError``.
- ``recover_interrupted(db) -> int`` — runs without a heartbeat for 60 s become
  ``error`` "interrupted".
"""
