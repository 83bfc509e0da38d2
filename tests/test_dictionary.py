"""Every column of every results file has a data-dictionary entry, and the descriptor lists them all."""

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pcnsim import dictionary
from pcnsim.run import run
from pcnsim.scenario import load


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    sc = load(overrides={"simulation": {"burn_in_years": 0, "years": 2},
                         "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 400}]}]})
    folder = tmp_path_factory.mktemp("dictionary") / "run"
    run(sc, seed=3, reps=2, ledger=True).save(folder)
    return folder


KIND_OF = {"integer": pa.types.is_integer, "number": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
           "string": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
           "boolean": pa.types.is_boolean, "date": pa.types.is_date32}


def test_every_column_of_every_results_file_is_in_the_dictionary(saved):
    """Every column of every file a run writes is described, in order, and stored as the type it is said to
    be (dates as calendar dates); the file carries each column's description and unit, and datapackage.json
    lists the files and their fields."""
    files = sorted(p.name for p in saved.glob("*.parquet"))
    assert {"ledger.parquet", "patients_yearly.parquet", "staff.parquet"} <= set(files)
    package = json.loads((saved / "datapackage.json").read_text())
    assert sorted(r["path"] for r in package["resources"]) == files
    for file in files:
        written = list(pd.read_parquet(saved / file).columns)
        described = dictionary.columns(file)
        assert written == [c.name for c in described], file
        schema = pq.read_schema(saved / file)
        for c in described:
            assert schema.field(c.name).metadata[b"description"].decode() == c.description, (file, c.name)
            arrow = schema.field(c.name).type
            arrow = arrow.value_type if pa.types.is_dictionary(arrow) else arrow
            assert KIND_OF[c.kind](arrow), (file, c.name, arrow)


def test_every_entry_says_what_it_is():
    for file, cols in dictionary.TABLES.items():
        assert len({c.name for c in cols}) == len(cols), file
        for c in cols:
            assert c.description and c.kind in ("integer", "number", "string", "boolean", "date"), (file, c.name)


def test_the_data_package_descriptor_lists_every_file_and_field():
    package = dictionary.datapackage(list(dictionary.TABLES), "Baseline run")
    assert package["name"] == "baseline-run"
    assert {r["path"] for r in package["resources"]} == set(dictionary.TABLES)
    json.dumps(package)  # serialisable as it is
    patients = next(r for r in package["resources"] if r["path"] == "patients_yearly.parquet")
    age = next(c for c in dictionary.columns("patients_yearly.parquet") if c.name == "age")
    assert {"name": "age", "type": "integer", "description": age.description, "unit": "years"} \
        in patients["schema"]["fields"]


def test_every_column_of_a_comparisons_tables_is_in_the_dictionary(tmp_path):
    """A comparison folder's tables (Parquet and CSV) are described column by column, in order; Parquet
    columns carry their descriptions; by_group gives practices and PCNs their ODS codes."""
    from pcnsim.experiments.compare import compare

    place = {"simulation": {"burn_in_years": 0, "years": 1},
             "pcns": [{"name": "p", "code": "U00001",
                       "practices": [{"name": "a", "list_size": 500, "ods_code": "A00001"},
                                     {"name": "b", "list_size": 400}]}]}
    base = load(overrides={**place, "name": "base"})
    other = load(overrides={**place, "name": "pooled", "levers": {"pooled_roles": {"enabled": True, "share": 1.0}}})
    out = tmp_path / "cmp"
    compare(base, [other], reps=2).save(out)
    tables = sorted(p.name for p in out.iterdir() if p.suffix in (".parquet", ".csv"))
    assert tables == ["by_group.parquet", "comparison.csv", "comparison.parquet", "fit.parquet",
                      "per_replicate.parquet"]
    package = json.loads((out / "datapackage.json").read_text())
    assert sorted(r["path"] for r in package["resources"]) == tables
    for file in tables:
        frame = pd.read_csv(out / file) if file.endswith(".csv") else pd.read_parquet(out / file)
        assert list(frame.columns) == [c.name for c in dictionary.columns(file)], file
    assert pq.read_schema(out / "by_group.parquet").field("diff").metadata[b"unit"] == b"per 1,000 person-years"
    groups = pd.read_parquet(out / "by_group.parquet")
    codes = groups.drop_duplicates(["by", "group"]).set_index(["by", "group"])["ods_code"]
    assert codes[("practice", "a")] == "A00001" and codes[("pcn", "p")] == "U00001"
    assert pd.isna(codes[("practice", "b")]) and pd.isna(codes[("sex", "female")])
