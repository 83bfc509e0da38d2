"""A place simulated group by group (pcnsim.partition, as `run` does) gives exactly the numbers of the
same place simulated whole in one model."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pcnsim import memory, partition
from pcnsim.model import PCNModel
from pcnsim.run import replicate_seeds, run
from pcnsim.scenario import ScenarioError, load

ROOT = Path(__file__).resolve().parents[1]


def borough(file="borough.yaml", **levers):
    sc = load(ROOT / "scenarios" / file)
    sc.simulation.burn_in_years = 0
    sc.simulation.years = 1
    for name, block in levers.items():
        setattr(sc.levers, name, getattr(sc.levers, name).model_copy(update=block))
    return sc


def whole(sc, seed):
    """The place in one model, as before partitioning."""
    model = PCNModel(sc, seed)
    while not model.finished:
        model.step()
    last = model.n_days // 7
    return model, model.tally.weekly[:last], model.tally.cap_offered[:last], model.tally.cap_used[:last]


def by_patient(df):
    return df.sort_values(["year", "patient_id"], ignore_index=True)


NETWORK = {"enabled": True, "start_day": 0, "trust": 0.5, "pcns": ["Canal Side PCN", "Market Town PCN"],
           "roles": ["pharmacist", "splw"]}


def test_groups_join_network_of_networks_members_where_the_first_stands():
    sc = borough(network_of_networks=NETWORK)
    assert [pcn.name for pcn in sc.pcns][1] == "Canal Side PCN" and sc.pcns[3].name == "Market Town PCN"
    assert partition.groups(sc) == [[0], [1, 3], [2], [4], [5]]
    assert partition.groups(borough()) == [[c] for c in range(6)]
    everyone = {"enabled": True, "pcns": None}
    assert partition.groups(borough(network_of_networks=everyone)) == [list(range(6))]
    # trust 0 shares nothing: the PCNs stay apart (and give exactly the separate PCNs' numbers)
    assert partition.groups(borough(network_of_networks={**everyone, "trust": 0.0})) == [[c] for c in range(6)]
    cut = partition.Partition(sc)
    ids = cut.ids()
    assert ids.stride == 5 and list(ids.entrant_pid) == [sc.n_patients + g for g in range(5)]
    sub = cut.ids(1)
    canal_and_market = [ids.first_pid[p] for p in cut.practices(1)]
    assert len(canal_and_market) == 10 and canal_and_market[5] > canal_and_market[4] + 1  # not adjacent
    assert list(sub.first_pid) == canal_and_market and list(sub.entrant_pid) == [sc.n_patients + 1]
    n_p = len(ids.first_pid)
    assert list(cut.units(1)[-3:]) == [n_p + 1, n_p + 3, n_p + 6]  # both PCNs' pools, then the shared pool


@pytest.mark.parametrize("levers", [
    {"file": "borough_pooled.yaml", "network_of_networks": NETWORK, "complex_care": {"enabled": True, "start_day": 0}},
    {"shared_expertise": {"enabled": True, "start_day": 0, "home_practice": "Orchard Surgery"},
     "pooled_roles": {"enabled": True, "start_day": 0}},
], ids=["network-of-networks+complex-care", "shared-expertise+pooled"])
def test_group_by_group_equals_the_whole_place(levers):
    sc = borough(**levers)
    res = run(sc, seed=11, reps=1, threads=2)
    model, weekly, offered, used = whole(sc, replicate_seeds(11, 1)[0])
    np.testing.assert_array_equal(res.weekly[0], weekly)
    np.testing.assert_array_equal(res.capacity_offered[0], offered)
    np.testing.assert_array_equal(res.capacity_used[0], used)
    assert res.unit_names == model.layout.unit_names
    expected = by_patient(model.patient_table())
    got = by_patient(res.patients[expected.columns])
    pd.testing.assert_frame_equal(got, expected)
    assert weekly.sum() > 0 and (offered.sum(axis=(0, 2)) > 0).all()  # every unit of the place took part


def test_a_national_run_needs_memory_for_the_groups_it_simulates_at_once():
    england = load(ROOT / "scenarios" / "england.yaml")
    assert len(partition.groups(england)) == len(england.pcns) == 1250
    per_patient = sum(memory.per_patient_bytes(england).values())
    whole_place = england.n_patients * per_patient
    at_once = memory.estimate(england, patients=False, at_once=2)
    assert whole_place > 20 * 2**30  # all of England in one model would not fit on a 24 GiB machine
    assert at_once < 1 * 2**30  # two PCNs' engine arrays plus the whole place's weekly tallies
    assert at_once >= 2 * memory.largest_group(england) * per_patient
    # per-patient tables for 63.7M people would not fit: the refusal says how to run without them
    with pytest.raises(ScenarioError, match="--no-patients"):
        memory.check(england, patients=True, at_once=2)
