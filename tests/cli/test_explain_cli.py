"""``enroller-desktop explain RUN_ID``, run as a user runs it."""

from __future__ import annotations

import json
import subprocess

from enroller_desktop.db import explain_queries as eq
from tests.builders import ENROLLER, campaign, customer, organization
from tests.cli.test_engine_cli import assert_one_line_refusal


def enroller(db, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(ENROLLER), "--db", db.url, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_explain_json_gives_the_sole_blockers_keyed_by_column(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, vehicles=1)
    customer(db, org, first_name="Out", opt_out_all=True)
    customer(db, org, first_name="Gone", opt_out_all=True, deleted=True)
    result = enroller(db, "run", "--campaign", campaign_id, "--json")
    run_id = json.loads(result.stdout)["id"]
    explained = enroller(db, "explain", run_id, "--json")
    assert explained.returncode == 0, explained.stderr
    printed = json.loads(explained.stdout)
    assert printed["sole_blockers"] == {name: (1 if name == "opt_out_all" else 0) for name in eq.CONDITIONS}
    assert printed["failed_among_others"] == {name: (1 if name in ("opt_out_all", "deleted") else 0) for name in eq.CONDITIONS}
    assert printed["query_params"][0]["sole_blockers"] == printed["sole_blockers"]
    assert json.loads(result.stdout)["sole_blockers"] == printed["sole_blockers"]


def test_explain_prints_a_table_of_conditions(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, first_name="Out", opt_out_all=True)
    enroller(db, "run", "--campaign", campaign_id)
    result = enroller(db, "explain", 1)
    assert result.returncode == 0, result.stderr
    assert any(line.split() == ["Opt", "Out", "All", "1", "0"] for line in result.stdout.splitlines()), result.stdout


def test_explain_of_a_missing_run_exits_2_with_one_line(db):
    assert_one_line_refusal(enroller(db, "explain", 42))


def test_compare_with_one_run_compares_it_with_the_completed_run_before_it(db):
    import sqlalchemy as sa

    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, first_name="Stays")
    leaving = customer(db, org, first_name="Leaves")
    first = json.loads(enroller(db, "run", "--campaign", campaign_id, "--purpose", "campaign_simulation", "--json").stdout)["id"]
    alone = enroller(db, "compare", first)
    assert_one_line_refusal(alone)
    assert "no earlier completed run" in alone.stderr
    with db.write() as conn:
        conn.execute(sa.text("UPDATE customers SET opt_out_all = :yes WHERE id = :id"), {"yes": True, "id": leaving.id})
    # A run of another purpose between them is passed over: a simulation is compared with a simulation.
    between = json.loads(enroller(db, "run", "--campaign", campaign_id, "--purpose", "criterion_stats", "--json").stdout)["id"]
    assert first < between
    second = json.loads(enroller(db, "run", "--campaign", campaign_id, "--purpose", "campaign_simulation", "--json").stdout)["id"]
    result = enroller(db, "compare", second, "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert (printed["run_a"], printed["run_b"]) == (first, second)
    assert (printed["entered"], printed["left"], printed["lost_eligibility"]) == (0, 0, 1)
    assert printed["checks"]["opt_out_all"]["passed_to_failed"] == 1
