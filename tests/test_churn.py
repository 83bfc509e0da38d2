"""Frequent-attender churn metrics on hand-built populations whose answers are known."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcnsim import churn
from pcnsim.metrics import age_band


def people(rows):
    cols = ["replicate", "year", "patient_id", "age", "sex", "registered_days", "primary_care_contacts",
            "clustered_contacts", "complexity"]
    return pd.DataFrame(rows, columns=cols)


def test_exit_categories_exact():
    # Four FAs (12+) in year 0: A stays, B drops to 7 (>= half of 12: still high), C leaves, D dissipates.
    rows = [
        (0, 0, 1, 40, "female", 364, 14, 1, 3), (0, 1, 1, 41, "female", 364, 13, 1, 3),
        (0, 0, 2, 40, "female", 364, 12, 0, 0), (0, 1, 2, 41, "female", 364, 7, 0, 0),
        (0, 0, 3, 40, "female", 364, 20, 2, 2), (0, 1, 3, 41, "female", 100, 5, 0, 2),
        (0, 0, 4, 40, "female", 364, 12, 1, 1), (0, 1, 4, 41, "female", 364, 1, 0, 1),
        (0, 0, 5, 40, "female", 364, 2, 0, 0), (0, 1, 5, 41, "female", 364, 12, 0, 0),
    ]
    table = churn.churn_table(people(rows))
    got = table[(table["definition"] == "12plus") & (table["year"] == 0)].set_index("metric")["value"]
    assert got["fa_count"] == 4 and got["prevalence"] == 4 / 5
    assert (got["persist"], got["still_high"], got["left_or_died"], got["dissipated"]) == (0.25, 0.25, 0.25, 0.25)
    assert got["complex_share"] == 0.5  # A (level 3) and C (level 2)
    assert got["persist_complex"] == 0.5 and got["persist_transient"] == 0.0
    assert got["share_of_contacts"] == 58 / 60
    assert got["inflow_share"] == 0.5  # year 1 FAs: A (persisting) and E (new)


def markov_population(n=20_000, years=6, stay=0.4, enter=0.05, seed=1):
    """A closed population whose FA state is a two-state Markov chain started at its stationary law."""
    rng = np.random.default_rng(seed)
    pi = enter / (1 - stay + enter)
    state = rng.random(n) < pi
    complex_ = rng.random(n) < 0.5
    rows = []
    for y in range(years):
        contacts = np.where(state, 15, 2)
        rows.append(pd.DataFrame({
            "replicate": 0, "year": y, "patient_id": np.arange(n), "age": 40, "sex": "female",
            "registered_days": 364, "primary_care_contacts": contacts, "clustered_contacts": state.astype(int),
            "complexity": np.where(state & complex_, 2, 0),
        }))
        state = np.where(state, rng.random(n) < stay, rng.random(n) < enter)
    return pd.concat(rows, ignore_index=True), pi


def test_two_state_chain_matches_its_analytic_churn():
    stay, enter = 0.4, 0.05
    pats, pi = markov_population(stay=stay, enter=enter)
    summary = churn.churn_summary(churn.churn_table(pats)).set_index(["metric", "definition"])["mean"]
    n_fa = pi * 20_000
    # Tolerances: 4 standard errors of a proportion over the pooled years (5 transitions, ~1,540 FAs each).
    se_persist = np.sqrt(stay * (1 - stay) / (5 * n_fa))
    se_prev = np.sqrt(pi * (1 - pi) / (6 * 20_000))
    for definition in ("12plus", "30day"):
        assert summary["persist", definition] == pytest.approx(stay, abs=4 * se_persist)
        assert summary["dissipated", definition] == pytest.approx(1 - stay, abs=4 * se_persist)
        assert summary["left_or_died", definition] == 0 and summary["still_high", definition] == 0
        assert summary["prevalence", definition] == pytest.approx(pi, abs=4 * se_prev)
        # Stationary inflow: new FAs / all FAs = enter * (1 - pi) / pi = 1 - stay.
        assert summary["inflow_share", definition] == pytest.approx(1 - stay, abs=4 * se_persist)
        assert summary["persist_3_years", definition] == pytest.approx(stay**2, abs=4 * np.sqrt(stay**2 / n_fa))
        assert summary["complex_share", definition] == pytest.approx(0.5, abs=4 * np.sqrt(0.25 / (6 * n_fa)))
    # Top 10%: exactly ceil(10%) of the (single) age-sex band each year, every 15-contact FA among them.
    assert summary["prevalence", "top10"] == pytest.approx(0.1)
    flags = churn.add_fa_flags(pats)
    assert (flags["fa_top10"] | ~flags["fa_12plus"]).all()


def test_top10_is_within_age_sex_bands():
    # Two bands with very different contact levels: each contributes its own top 10%.
    rows = []
    for i in range(100):
        rows.append((0, 0, i, 80, "female", 364, 20 + i % 7, 0, 0))
        rows.append((0, 0, 1000 + i, 20, "male", 364, i % 3, 0, 0))
    flags = churn.add_fa_flags(people(rows))
    assert flags.groupby("sex")["fa_top10"].sum().to_dict() == {"female": 10, "male": 10}


def top10_by_groupby_rank(df: pd.DataFrame) -> np.ndarray:
    """The definition of `top10` written as a groupby rank: rank by contacts plus the id's hash, highest
    first, equal scores in row order; the top ceil(10%) of each replicate, year, age band and sex's
    full-year patients, with at least one contact."""
    full = df["registered_days"] == 364
    score = pd.Series(np.where(full, df["primary_care_contacts"] + churn._tiebreak(df["patient_id"]), -1.0))
    groups = [df["replicate"], df["year"], age_band(df["age"]), df["sex"]]
    rank = score.groupby(groups, observed=True).rank(ascending=False, method="first")
    n_full = full.groupby(groups, observed=True).transform("sum")
    return (full & (rank <= np.ceil(0.1 * n_full)) & (df["primary_care_contacts"] > 0)).to_numpy()


@given(st.integers(1, 400), st.integers(1, 400), st.integers(0, 2**32 - 1))
@settings(max_examples=150, deadline=None)
def test_top10_flags_are_the_groupby_rank_cut(n, most_contacts, seed):
    # Repeated ids give equal scores (ties go to the earlier row); contacts up to 400 pass the levels
    # counted apart (128), so the cut can fall among pooled levels; some groups have no full-year rows.
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "replicate": rng.integers(0, 3, n), "year": rng.integers(0, 3, n), "patient_id": rng.integers(0, 40, n),
        "age": rng.integers(0, 100, n), "sex": rng.choice(["female", "male"], n),
        "registered_days": np.where(rng.random(n) < 0.8, 364, rng.integers(0, 364, n)),
        "primary_care_contacts": rng.integers(0, most_contacts + 1, n), "clustered_contacts": 0, "complexity": 0,
    })
    np.testing.assert_array_equal(churn.add_fa_flags(df)["fa_top10"].to_numpy(), top10_by_groupby_rank(df))


def test_top10_flags_of_a_simulated_table_are_the_groupby_rank_cut(baseline_run):
    table = baseline_run.patients
    flags = table["fa_top10"].to_numpy()
    assert flags.sum() > 1000
    np.testing.assert_array_equal(flags, top10_by_groupby_rank(table))


def test_churn_is_a_comparison_and_sweep_metric_with_the_churn_tables_values():
    """Frequent-attender prevalence, share of contacts, persistence and inflow, for each definition, come out
    of `compare.per_replicate` as the churn table's values averaged over a replicate's years."""
    from pcnsim.experiments.compare import CHURN_NAMES, per_replicate, replicate_metric_names
    from pcnsim.run import run
    from pcnsim.scenario import load

    sc = load(overrides={"simulation": {"burn_in_years": 1, "years": 3},
                         "pcns": [{"name": "p", "practices": [{"name": "a", "list_size": 1500}]}]})
    res = run(sc, seed=4, reps=2)
    table = per_replicate(res)
    assert set(CHURN_NAMES) <= set(replicate_metric_names()) and set(CHURN_NAMES) <= set(table.index)
    expected = churn.churn_table(res.patients).query("definition == '12plus' and metric == 'persist'")
    means = expected.groupby("replicate")["value"].mean()
    np.testing.assert_allclose(table.loc["fa_12plus_persistence"].to_numpy(), means.to_numpy())
    assert ((table.loc[list(CHURN_NAMES)] >= 0) & (table.loc[list(CHURN_NAMES)] <= 1)).all().all()
    assert "fa_top10_prevalence" not in per_replicate(res, ["ae_per_1000"]).index  # only when asked for
