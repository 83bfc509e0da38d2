"""Results: save/load round trip, atomic writes, and metrics recomputable from patients_yearly.parquet."""

import json

import numpy as np
import pandas as pd
import pytest

from pcnsim import metrics
from pcnsim.results import FILES, Results, ResultsError, join_tables
from pcnsim.scenario import load


@pytest.fixture(scope="module")
def saved(baseline_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("res") / "baseline"
    baseline_run.save(out)
    return out


def test_directory_has_the_documented_files(saved):
    names = {p.name for p in saved.iterdir()}
    assert {"scenario.yaml", "manifest.json", *FILES} <= names
    manifest = json.loads((saved / "manifest.json").read_text())
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert len(manifest["replicate_seeds"]) == 2


def test_round_trip(saved, baseline_run):
    back = Results.load(saved)
    assert np.array_equal(back.weekly, baseline_run.weekly)
    assert np.array_equal(back.capacity_used, baseline_run.capacity_used)
    pd.testing.assert_frame_equal(back.patients, baseline_run.patients, check_categorical=False)
    assert back.seeds == baseline_run.seeds
    assert back.scenario.pcns == baseline_run.scenario.pcns
    pd.testing.assert_frame_equal(back.summary(), baseline_run.summary())


def test_saved_scenario_reruns_to_the_same_numbers(saved, baseline_run):
    from pcnsim.run import run

    sc = load(saved / "scenario.yaml")
    assert sc.simulation.seed == baseline_run.root_seed
    again = run(sc, reps=1)
    assert np.array_equal(again.weekly[0], baseline_run.weekly[0])


def test_summary_recomputed_from_patients_parquet(saved):
    pats = pd.read_parquet(saved / "patients_yearly.parquet")
    stored = pd.read_parquet(saved / "summary.parquet")
    again = metrics.summary_table(pats, load(saved / "scenario.yaml").costs.per_contact)
    pd.testing.assert_frame_equal(stored.drop(columns="year_start"), again)


def test_refuses_to_overwrite_a_foreign_directory(tmp_path, baseline_run):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ResultsError, match="not empty"):
        baseline_run.save(out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["busy"]  # no temporary directory left behind


def test_failed_write_leaves_nothing(tmp_path, baseline_run, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    import pyarrow.parquet as pq

    monkeypatch.setattr(pq.ParquetWriter, "write_table", boom)  # every table is written through it
    with pytest.raises(OSError):
        baseline_run.save(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_load_of_a_non_results_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ResultsError, match="not a pcnsim results directory"):
        Results.load(tmp_path)


def test_summary_without_patient_table_agrees_on_aggregate_metrics(baseline_run):
    from pcnsim.results import Results

    lean = Results(**{**baseline_run.__dict__, "patient_tables": [], "ledger": None, "extra": {}})
    full = baseline_run.headline()
    agg = lean.headline()
    for metric in ("primary_care_contacts_per_person", "ae_per_1000", "revisit_rate", "dna_rate", "gp_per_1000"):
        assert agg.loc[metric, "mean"] == pytest.approx(full.loc[metric, "mean"], rel=1e-12), metric
    assert np.isnan(agg.loc["zero_contact_share", "mean"])


def test_workforce_table_reports_capacity_use_and_overflow(baseline_run):
    t = baseline_run.workforce().set_index(["role", "level"])
    assert t["utilisation"].between(0, 1).all()
    assert (t[["overflow_to_network_per_year", "unplaced_requests_per_year"]] >= 0).all().all()
    # GP slots offered at practice level: FTE x 28 contacts x working days (364 - 104 weekend - 8 holidays).
    sc = baseline_run.scenario
    gp_fte = sc.n_patients / 1000 * sc.workforce.practice_fte_per_1000["gp"]
    expected = gp_fte * sc.workforce.roles["gp"].contacts_per_fte_day * (364 - 104 - 8)
    assert t.loc[("gp", "practice"), "slots_offered_per_year"] == pytest.approx(expected, rel=0.01)
    # Community nursing sits in the network pool only; practice GPs are busy enough that some requests
    # for a GP find no slot at all.
    assert ("community_nurse", "network pool") in t.index and ("community_nurse", "practice") not in t.index
    assert t.loc[("gp", "practice"), "unplaced_requests_per_year"] > 0


def test_replicates_tables_join_as_pandas_joins_them(baseline_run):
    # run() joins the replicates' patient tables itself (into memory on ordinary pages, letting go of each
    # table once copied): the same table as pd.concat, categories, flags and types included, whatever
    # the parts' indexes
    table = baseline_run.patients
    parts = [table[table["replicate"] == r] for r in (1, 0, 1)]
    expected = pd.concat(parts, ignore_index=True)
    given = list(parts)
    joined = join_tables(given)
    pd.testing.assert_frame_equal(joined, expected)
    assert given == [] and not np.shares_memory(joined["gp"].to_numpy(), table["gp"].to_numpy())
    retyped = [parts[0], parts[1].astype({"age": np.int64})]  # types differ: pandas' own rules
    pd.testing.assert_frame_equal(join_tables(list(retyped)), pd.concat(retyped, ignore_index=True))


def test_the_memory_check_sizes_the_per_patient_table_from_what_it_takes(baseline_run):
    from pcnsim import memory

    sc = baseline_run.scenario
    patient_years = sc.n_patients * baseline_run.replicates * sc.simulation.years
    measured = baseline_run.patients.memory_usage(index=False).sum() / patient_years  # leavers' rows included
    # at least what the table takes, and not so much more that runs which would fit are refused
    assert measured <= memory.TABLE_BYTES_PER_PATIENT_YEAR <= 1.25 * measured


def test_series_rows_are_every_replicate_week_practice_and_metric_in_order(baseline_run):
    from pcnsim.results import WEEKLY_METRICS

    reps, weeks, _, _ = baseline_run.weekly.shape
    data = np.concatenate([baseline_run.weekly, baseline_run.weekly.sum(axis=2, keepdims=True)], axis=2)
    index = pd.MultiIndex.from_product([range(reps), range(weeks), [*baseline_run.practice_names, "all"],
                                        WEEKLY_METRICS], names=["replicate", "week", "practice", "metric"])
    expected = pd.DataFrame({"value": data.reshape(-1)}, index=index).reset_index()
    got = baseline_run.to_dataframe()
    assert isinstance(got["metric"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(got[list(expected.columns)].astype({"practice": str, "metric": str}), expected)
    start = np.datetime64(baseline_run.scenario.simulation.start_date, "D")
    assert (got["week_start"].to_numpy("datetime64[D]") == start + 7 * got["week"].to_numpy()).all()


def test_the_replicates_tables_are_summarised_and_saved_without_joining_them(baseline, tmp_path):
    from pcnsim.run import run

    res = run(baseline, seed=7, years=1, reps=3, replicates=[2, 0])  # out of order, as a sweep may ask
    assert [t["replicate"].unique().tolist() for t in res.patient_tables] == [[2], [0]]
    summary = res.summary()
    res.save(tmp_path / "out")
    assert len(res.patient_tables) == 2  # neither joined them
    joined = res.patients  # joined now, on first use
    assert len(res.patient_tables) == 1 and joined["replicate"].tolist()[:1] == [2]
    pd.testing.assert_frame_equal(summary.drop(columns="year_start"),
                                  metrics.summary_table(joined, baseline.costs.per_contact), check_exact=True)
    saved = pd.read_parquet(tmp_path / "out" / "patients_yearly.parquet")
    pd.testing.assert_frame_equal(saved, joined, check_categorical=False)
