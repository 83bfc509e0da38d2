"""The same-day reserve by role and unit (docs/model.md, Slots): which value each unit and role takes, the
slots a day then offers to routine booking and to same-day requests (by the engine's own rounding), and
that a role which keeps no reserve has all its slots booked ahead when demand is there."""

import math

import numba
import numpy as np
import pytest

from pcnsim import params, population, scenario
from pcnsim.engine.diary import day_capacity, find_slot, init_diary, open_diary
from pcnsim.run import run
from pcnsim.vocab import DAYS_PER_YEAR, N_ROLES, NEEDS, ROLES, ROUTINE, SAME_DAY

call_day_capacity = numba.njit(lambda p, unit, role, day: day_capacity(p, unit, role, day))  # kernels call kernels
call_open_diary = numba.njit(lambda s, p, day: open_diary(s, p, day))
call_find_slot = numba.njit(lambda s, p, day, practice, role, need, urgency:
                            find_slot(s, p, day, practice, role, need, urgency))

GP, SPLW, PHARMACIST, MDT = (ROLES.index(r) for r in ("gp", "splw", "pharmacist", "mdt"))
ACUTE = NEEDS.index("acute_minor")
TWO_PCNS = [
    {"name": "North", "practices": [{"name": "A", "list_size": 100, "same_day_reserve": {"gp": 0.6, "splw": 0.0}},
                                    {"name": "B", "list_size": 100}]},
    {"name": "South", "practices": [{"name": "C", "list_size": 100}]},
]


def reserve_of(booking: dict, pcns=TWO_PCNS) -> np.ndarray:
    sc = scenario.load(overrides={"pcns": pcns, "booking": booking})
    return params.build(sc, 1)[0].same_day_reserve


def test_each_unit_and_role_takes_its_own_value_then_the_role_default_then_same_day_share():
    r = reserve_of({"same_day_share": 0.3, "same_day_reserve": {"pharmacist": 0.2},
                    "pool_same_day_reserve": {"splw": 0.5, "mdt": 0.0}})
    assert r.shape == (5, N_ROLES)  # practices A, B, C, then the North and South pools
    a, b, c, north, south = r
    assert a[GP] == 0.6 and a[SPLW] == 0.0  # practice A's own values
    assert b[GP] == c[GP] == north[GP] == 0.3  # same_day_share: a role nobody names
    assert a[PHARMACIST] == b[PHARMACIST] == north[PHARMACIST] == 0.2  # booking.same_day_reserve
    assert b[SPLW] == 0.1 and b[MDT] == 0.2  # the schema's default for the role (start values)
    assert north[SPLW] == south[SPLW] == 0.5 and north[MDT] == south[MDT] == 0.0  # the pools' own values


def test_null_returns_a_role_to_same_day_share():
    r = reserve_of({"same_day_share": 0.35, "same_day_reserve": {"splw": None}})
    assert r[1, SPLW] == 0.35 and r[1, MDT] == 0.2


def test_every_role_at_one_value_is_the_same_as_same_day_share_alone():
    """The old single reserve: naming every role with same_day_share's value, or deleting every default entry
    so that each role falls back to it, gives the same tables, hence the same run."""
    everyone = {role: 0.45 for role in ROLES}
    by_role = reserve_of({"same_day_reserve": everyone, "pool_same_day_reserve": everyone}, pcns=TWO_PCNS[1:])
    fallback = reserve_of({"same_day_share": 0.45, "same_day_reserve": {role: None for role in ROLES}},
                          pcns=TWO_PCNS[1:])
    assert np.array_equal(by_role, fallback) and (by_role == 0.45).all()


@pytest.mark.parametrize("booking, field", [
    ({"same_day_reserve": {"splw": 1.2}}, "booking.same_day_reserve.splw"),
    ({"pool_same_day_reserve": {"link_worker": 0.1}}, "booking.pool_same_day_reserve"),
])
def test_a_bad_reserve_is_one_line_naming_the_field(booking, field):
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load(overrides={"booking": booking})
    message = str(err.value)
    assert "\n" not in message and field in message and ("less than or equal to 1" in message or "allowed" in message)


# ---- the diary, analytically --------------------------------------------------------------------------------
# One practice (unit 0) and its network pool (unit 1), with hand-set slots per working day and reserves.
RATES = {GP: 10.36, SPLW: 3.0, PHARMACIST: 1.7, MDT: 4.0}
RESERVES = {GP: 0.45, SPLW: 0.0, PHARMACIST: 0.3, MDT: 0.1}
HORIZON = 5


def hand_built():
    sc = scenario.load(overrides={"pcns": [{"name": "P", "practices": [{"name": "A", "list_size": 50}]}],
                                  "booking": {"horizon_days": HORIZON}})
    p, lay = params.build(sc, 1)
    cap_rate, reserve = np.zeros_like(p.cap_rate), np.full_like(p.same_day_reserve, 0.45)
    for role, rate in RATES.items():
        cap_rate[0, role] = rate
        reserve[0, role] = RESERVES[role]
    p = p._replace(cap_rate=cap_rate, same_day_reserve=reserve)
    return p, lay


def expected(p, role: int, day: int) -> tuple[int, int]:
    """The slots formula: the working day's share of the rate by cumulative floor, the reserve rounded half up."""
    if not p.working[day]:
        return 0, 0
    wd, rate = int(p.wd_index[day]), RATES[role]
    total = math.floor(rate * (wd + 1)) - math.floor(rate * wd)
    return total, math.floor(total * RESERVES[role] + 0.5)


def test_day_capacity_is_the_slots_formula_with_half_up_rounding():
    p, _ = hand_built()
    seen = set()
    for role in RATES:
        for day in range(120):
            got = call_day_capacity(p, 0, role, day)
            assert got == expected(p, role, day), (ROLES[role], day)
            seen.add(got)
    assert (3, 0) in seen and (10, 5) in seen and (11, 5) in seen and (2, 1) in seen and (4, 0) in seen
    # 45% of 10 slots is 4.5, rounded up to 5; 10% of 4 is 0.4, rounded down to none; 30% of 2 is 0.6, to 1


def fresh_diary():
    p, lay = hand_built()
    s = population.synthesise(p, lay).kernel  # diaries opened for days [0, horizon)
    day = int(np.flatnonzero(p.working)[0])
    init_diary(s, p, day)
    call_open_diary(s, p, day)
    return p, s, day


def take(p, s, day, role, urgency) -> list[int]:
    """Book requests for a role at practice 0 until none finds a slot; the days they got."""
    got = []
    while True:
        unit, when = call_find_slot(s, p, day, 0, role, ACUTE, urgency)
        if unit < 0:
            return got
        assert unit == 0
        got.append(int(when))


@pytest.mark.parametrize("role", list(RATES))
def test_routine_requests_get_the_unreserved_slots_of_every_open_day(role):
    p, s, day = fresh_diary()
    got = take(p, s, day, role, ROUTINE)
    open_days = range(day, day + HORIZON + 1)
    want = {x: expected(p, role, x)[0] - expected(p, role, x)[1] for x in open_days}
    assert {x: got.count(x) for x in open_days} == want and len(got) == sum(want.values())
    # ... after which same-day requests get exactly today's reserve
    assert take(p, s, day, role, SAME_DAY) == [day] * expected(p, role, day)[1]


@pytest.mark.parametrize("role", list(RATES))
def test_same_day_requests_get_the_reserve_then_todays_routine_slots(role):
    p, s, day = fresh_diary()
    assert take(p, s, day, role, SAME_DAY) == [day] * expected(p, role, day)[0]
    routine = take(p, s, day, role, ROUTINE)
    assert day not in routine and len(routine) == sum(expected(p, role, x)[0] - expected(p, role, x)[1]
                                                      for x in range(day + 1, day + HORIZON + 1))


def test_open_diary_reserves_each_days_share_for_every_unit_and_role():
    p, s, day = fresh_diary()
    for d in range(day, day + 30):
        call_open_diary(s, p, d)
        for role in RATES:
            assert s.sameday_free[0, role] == expected(p, role, d)[1]
            assert s.routine_free[0, role, (d + HORIZON) % (HORIZON + 1)] == (
                expected(p, role, d + HORIZON)[0] - expected(p, role, d + HORIZON)[1])
        assert (s.sameday_free[1] == 0).all()  # the pool holds no staff


# ---- a whole run: link workers with only routine demand -----------------------------------------------------
def link_worker_run(reserve: float):
    """A year (after the default year of burn-in, by which demand has built up) of one practice whose link worker
    (0.5 FTE: 3 slots a day) gets far more routine social-need requests than it has slots, and no same-day ones."""
    sc = scenario.load(overrides={
        "pcns": [{"name": "P", "practices": [{"name": "A", "list_size": 1500}]}],
        "workforce": {"pcn_fte": {"splw": 0.5}},
        "onset": {"base": {"social": 2.0}},
        "needs": {"social": {"same_day_share": 0.0, "routing": {"splw": 1.0}}},
        "booking": {"same_day_reserve": {"splw": reserve}},
    })
    days = int(params.build(sc, 11)[0].working[sc.simulation.burn_in_years * DAYS_PER_YEAR:].sum())  # reported
    res = run(sc, seed=11, years=1, reps=1, threads=1, patients=False)
    offered = res.capacity_offered.sum(axis=(0, 1))[0, SPLW]
    used = res.capacity_used.sum(axis=(0, 1))[0, SPLW]
    unplaced = res.workforce().set_index("role").loc["splw", "unplaced_requests_per_year"]
    return days, int(offered), int(used), unplaced


def test_a_role_without_a_reserve_has_every_slot_booked_ahead_and_one_with_a_reserve_idles_it():
    days, offered, used, unplaced = link_worker_run(0.0)
    assert offered == 3 * days and unplaced > offered
    assert used == offered
    days, offered, used, _ = link_worker_run(0.5)
    assert used == offered - 2 * days  # 50% of 3 slots rounds up to 2 held every day, and nobody takes them
