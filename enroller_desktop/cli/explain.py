"""The commands that explain decisions without knowing the run: what each check
alone held back in a run (explain), what changed between two runs (compare), and
a customer's story across campaigns (customer)."""

from __future__ import annotations

import sys

from enroller_desktop.cli.output import print_json
from enroller_desktop.db.engine import Database
from enroller_desktop.errors import UserError


def explain(db: Database, args) -> int:
    from enroller_desktop import explain as explaining

    explained = explaining.explain_run(db, args.run_id)
    if args.json:
        print_json(explained)
    else:
        print(explaining.format_explained_run(explained))
    return 0


def compare(db: Database, args) -> int:
    from enroller_desktop import explain as explaining
    from enroller_desktop import export

    run_a, run_b = args.run_a, args.run_b
    if run_b is None:  # one run: since the run before it
        run_a, run_b = explaining.previous_run(db, args.run_a), args.run_a
        if run_a is None:
            raise UserError(f"Run {run_b} has no earlier completed run of its campaign and purpose to compare with")
    compared = explaining.comparison(db, run_a, run_b)
    if args.out:
        written = export.export_source(db, explaining.difference_source(compared.run_a, compared.run_b), args.out)
        print(f"Wrote {written} rows to {args.out}", file=sys.stderr)
    if args.json:
        print_json(compared.as_dict())
    else:
        print(explaining.format_comparison(compared))
    return 0


def customer(db: Database, args) -> int:
    """One customer's story; several matches are listed, to be asked again by id."""
    from enroller_desktop import explain as explaining

    found = explaining.find_customers(db, args.query, args.organization)
    if not found:
        raise UserError(f"No customer matches {args.query!r}")
    if len(found) > 1:
        listed = [{"id": f.id, "first_name": f.first_name, "last_name": f.last_name, "email": f.email} for f in found]
        if args.json:
            print_json({"matches": listed})
        else:
            print("\n".join(f"{f['id']:>8}  {f['first_name'] or ''} {f['last_name'] or ''}  {f['email'] or ''}" for f in listed))
            print(f"{len(listed)} customers match; give one's id for their story")
        return 0
    story = explaining.customer_story(db, found[0].id)
    if args.json:
        print_json(story)
    else:
        print(explaining.format_customer(story))
    return 0
