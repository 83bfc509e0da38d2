"""The saved tables of fixed-seed runs are unchanged (tests/regression/fixture.py says how to regenerate)."""

import json

import pytest

from .regression import fixture


@pytest.mark.slow
def test_saved_tables_match_the_regression_fixture():
    expected = json.loads(fixture.EXPECTED.read_text())
    got = fixture.digests()
    assert got.keys() == expected.keys()
    changed = [f"{run}/{table}:{column}"
               for run, tables in expected.items() for table, columns in tables.items()
               for column, digest in columns.items() if got[run][table].get(column) != digest]
    added = [f"{run}/{table}:{column}" for run, tables in got.items() for table, columns in tables.items()
             for column in columns if column not in expected[run][table]]
    assert not changed and not added, f"changed: {changed}; new columns: {added}"
