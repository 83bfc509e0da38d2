"""Every column of every results file has a data-dictionary entry, and the descriptor lists them all."""

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pcnsim import dictionary
from pcnsim.run import run
from pcnsim.scenario import load

from .folders import CALIBRATE, KINDS, OPTIMISE, SWEEP


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
    """Every column of every folder's tables has a type and a description; a pattern column is named by a
    placeholder and says which columns it stands for."""
    for kind, tables in dictionary.FOLDERS.items():
        for file, cols in tables.items():
            assert len({c.name for c in cols}) == len(cols), file
            for c in cols:
                assert c.description and c.kind in ("integer", "number", "string", "boolean", "date"), (file, c.name)
                assert c.name.startswith("<") == bool(c.each), (kind, file, c.name)


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


# what each folder's pattern columns stand for, from the experiments tests/folders.py wrote them with
NAMES = {
    "results": {}, "compare": {},
    "sweep": {"<parameter>": [p.get("name", p["path"]) for p in SWEEP["parameters"]], "<metric>": SWEEP["metrics"],
              "<index>": ["S1", "S1_conf", "ST", "ST_conf"]},
    "optimise": {"<metric>": list(OPTIMISE["objective"]),
                 "<role>@<unit>": ["splw@North", "splw@South", "splw@Tiny PCN (network pool)"]},
    "calibrate": {"<path>": [p["path"] for p in CALIBRATE["parameters"]]},
}
CSV_KIND = {"integer": pd.api.types.is_integer_dtype, "number": pd.api.types.is_float_dtype,
            "string": pd.api.types.is_string_dtype, "boolean": pd.api.types.is_bool_dtype}


@pytest.mark.parametrize("kind", KINDS)
def test_every_column_of_every_table_of_every_results_folder_is_described(folders, kind):
    """In a folder of every kind, written by the command line: every column of every Parquet and CSV file is
    its dictionary entry's, in order, with its experiment's parameters, metrics and roles in place of the
    patterns; Parquet fields carry their descriptions and units, CSV columns read back as their type, and
    datapackage.json (listed in the manifest) lists every table with these fields."""
    folder = folders.folder[kind]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == kind and "datapackage.json" in manifest["files"]
    tables = sorted(p.name for p in folder.iterdir() if p.suffix in (".parquet", ".csv"))
    assert set(dictionary.FOLDERS[kind]) - {"ledger.parquet"} <= set(tables) <= set(dictionary.FOLDERS[kind])
    package = json.loads((folder / "datapackage.json").read_text())
    resources = {r["path"]: r for r in package["resources"]}
    assert sorted(resources) == tables
    for file in tables:
        described = dictionary.expand(dictionary.entry(kind, file), NAMES[kind])
        assert [(f["name"], f["type"], f["description"]) for f in resources[file]["schema"]["fields"]] \
            == [(c.name, c.kind, c.description) for c in described], file
        if file.endswith(".csv"):
            frame = pd.read_csv(folder / file)
            assert list(frame.columns) == [c.name for c in described], file
            for c in described:
                assert CSV_KIND[c.kind](frame[c.name]), (file, c.name, frame[c.name].dtype)
            continue
        schema = pq.read_schema(folder / file)
        assert schema.names == [c.name for c in described], file
        for c in described:
            field = schema.field(c.name)
            assert field.metadata[b"description"].decode() == c.description, (file, c.name)
            assert field.metadata[b"unit"].decode() == c.unit, (file, c.name)
            arrow = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
            assert KIND_OF[c.kind](arrow), (file, c.name, arrow)


def test_a_table_whose_columns_are_not_described_is_not_written(tmp_path):
    """`dictionary.write` refuses a frame whose columns differ from its entry's, so no file holds a column
    the dictionary does not describe."""
    described = dictionary.expand(dictionary.entry("calibrate", "evaluations.parquet"), {"<path>": ["a.b"]})
    assert [c.name for c in described] == ["evaluation", "cost", "a.b"]
    with pytest.raises(ValueError, match=r"evaluations\.parquet: columns"):
        dictionary.write(pd.DataFrame({"evaluation": [1], "cost": [0.5], "a.c": [1.0]}),
                         tmp_path / "evaluations.parquet", described)
    assert not (tmp_path / "evaluations.parquet").exists()
