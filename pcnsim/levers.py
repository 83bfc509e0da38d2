"""Network collaboration levers (docs/levers.md) applied to the engine's tables as they ramp up.

Each lever has a start day (counted from the first reported day) and a ramp; its intensity rises
linearly from 0 to its fidelity. Delivery capacity (project-management FTE) shortens the ramp and
raises the fidelity. Intensities are rounded to steps of 1/20, so tables are rebuilt at most 20 times
per lever. What each lever changes:
- pooled roles: a share of the PCN-funded practice-level FTE of chosen roles moves to the network pool;
- acute visiting service: paramedic FTE in the pool, and urgent home visits routed to it;
- social prescribing: link-worker FTE in the pool, higher referral and resolution of social needs;
- care navigation: triage moves towards the roles that fit each need best (weights ~ match squared);
- outreach: higher access propensity for chosen ages and deprivation quintiles;
- complex-care team: MDT FTE in the pool (plus GP sessions gifted by the practices, which lose them)
  and a caseload that fills by monthly case finding; enrolled patients' complex, mental-health and
  social needs go to the team, with lower A&E propensity and faster de-escalation (engine);
- shared expertise: sessions of one practice's skilled practitioner move to the network pool as the
  shared-expertise role, which resolves the named need with the skilled probability;
- network of networks: a trust share of each member PCN's pool capacity in chosen roles moves to one
  pool shared by all members (trust 0 = separate PCNs, 1 = a single pool).
"""

from __future__ import annotations

import numpy as np

from .engine.state import Params
from .params import Layout, routing, routing_weights
from .scenario import Scenario
from .vocab import DAYS_PER_YEAR, GP, MDT, NEEDS, ROLES, SHARED_EXPERTISE, URGENT_HOME_VISIT

STEPS = 20
NAMES = ("pooled_roles", "acute_visiting", "social_prescribing", "care_navigation", "outreach", "complex_care",
         "shared_expertise", "network_of_networks")
PARAMEDIC, SPLW = ROLES.index("paramedic"), ROLES.index("splw")
SESSIONS_PER_FTE = 10  # a session is half a working day
SOCIAL = NEEDS.index("social")


def intensities(sc: Scenario, day: int) -> dict[str, float]:
    """Each lever's intensity (0 to its fidelity) on absolute model day `day`."""
    lv = sc.levers
    d = lv.delivery
    resourced = min(1.0, d.project_manager_fte / d.fte_for_full_delivery)
    fidelity = d.fidelity_without + (1.0 - d.fidelity_without) * resourced
    t = day - sc.simulation.burn_in_years * DAYS_PER_YEAR
    out = {}
    for name in NAMES:
        lever = getattr(lv, name)
        if not lever.enabled or t < lever.start_day:
            out[name] = 0.0
            continue
        ramp = (lever.ramp_days if lever.ramp_days is not None else d.ramp_days) * (1.0 - d.ramp_reduction * resourced)
        progress = 1.0 if ramp <= 0 else min(1.0, (t - lever.start_day + 1) / ramp)
        out[name] = round(fidelity * progress * STEPS) / STEPS
    return out


def any_enabled(sc: Scenario) -> bool:
    return any(getattr(sc.levers, name).enabled for name in NAMES)


class Staff:
    """The FTE by role a unit (a practice or a pool) holds, and the moves levers make between units."""

    def __init__(self, fte: np.ndarray):
        self.fte = np.array(fte, dtype=float)

    def hire(self, role: int, fte: float) -> None:
        """Staff added by a lever (paid from network funds)."""
        self.fte[role] += fte

    def give(self, role: int, fte: float, to: Staff, as_role: int | None = None) -> None:
        """Staff time given to another unit (as the same role, or as `as_role` there)."""
        self.fte[role] -= fte
        to.fte[role if as_role is None else as_role] += fte


def deploy(sc: Scenario, lay: Layout, units: list[Staff], x: dict[str, float]) -> None:
    """Move staff between the units (by unit index: practices, PCN pools, then any shared pool), each holding
    its rota's FTE, as the levers at intensities x do."""
    n_p = lay.n_practices
    practices = units[:n_p]
    pools = units[n_p:n_p + len(lay.pcn_names)]

    def pool_of(p: int) -> Staff:
        return pools[lay.practice_pcn[p]]

    lv = sc.levers
    if x["pooled_roles"] > 0:
        for role in lv.pooled_roles.roles:
            r = ROLES.index(role)
            for p, practice in enumerate(practices):
                practice.give(r, lay.pcn_funded[p, r] * lv.pooled_roles.share * x["pooled_roles"], pool_of(p))
    for pool in pools:
        pool.hire(PARAMEDIC, lv.acute_visiting.paramedic_fte * x["acute_visiting"])
        pool.hire(SPLW, lv.social_prescribing.extra_splw_fte * x["social_prescribing"])
    if x["complex_care"] > 0:
        for pool in pools:
            pool.hire(MDT, lv.complex_care.fte * x["complex_care"])
        for p, practice in enumerate(practices):  # GP sessions gifted to the team
            gifted = min(practice.fte[GP], lv.complex_care.gifted_gp_fte_per_practice * x["complex_care"])
            practice.give(GP, gifted, pool_of(p), as_role=MDT)
    if x["shared_expertise"] > 0:
        se = lv.shared_expertise
        home = lay.practice_names.index(se.home_practice or lay.practice_names[0])
        r = ROLES.index(se.home_role)
        given = min(practices[home].fte[r], se.sessions_per_week / SESSIONS_PER_FTE * x["shared_expertise"])
        practices[home].give(r, given, pool_of(home), as_role=SHARED_EXPERTISE)
    if x["network_of_networks"] > 0:
        trust = lv.network_of_networks.trust * x["network_of_networks"]
        for c in np.flatnonzero(lay.pcn_shared >= 0):  # member PCNs in order
            for role in lv.network_of_networks.roles:
                r = ROLES.index(role)
                pools[c].give(r, pools[c].fte[r] * trust, units[lay.pcn_shared[c]])


def unit_fte(sc: Scenario, lay: Layout, x: dict[str, float]) -> np.ndarray:
    """FTE by unit and role with the levers at intensities x, for code without a model's agents."""
    units = [Staff(row) for row in lay.fte]
    deploy(sc, lay, units, x)
    return np.array([unit.fte for unit in units])


def apply(sc: Scenario, base: Params, lay: Layout, x: dict[str, float], cap_rate: np.ndarray) -> Params:
    """Engine tables with the levers at intensities x (capacity already built from the agents' FTE)."""
    lv = sc.levers
    weights = routing_weights(sc)
    if x["acute_visiting"] > 0:
        s = lv.acute_visiting.share_of_home_visits * x["acute_visiting"]
        visit = weights[URGENT_HOME_VISIT] / weights[URGENT_HOME_VISIT].sum()
        weights[URGENT_HOME_VISIT] = (1 - s) * visit + s * np.eye(len(ROLES))[PARAMEDIC]
    if x["care_navigation"] > 0:
        s = lv.care_navigation.strength * x["care_navigation"]
        fit = np.where(base.match[:, : len(ROLES)] > 0, base.match[:, : len(ROLES)], 0.0) ** 2
        fit /= fit.sum(axis=1, keepdims=True)
        norm = weights / weights.sum(axis=1, keepdims=True)
        weights = (1 - s) * norm + s * fit
    access, referral, match = base.access, base.referral_prob, base.match.copy()
    if x["shared_expertise"] > 0:
        se = lv.shared_expertise
        t = NEEDS.index(se.skill)
        match[t, SHARED_EXPERTISE] = se.skilled_resolution
        s = se.routing_share * x["shared_expertise"]
        norm = weights[t] / weights[t].sum()
        weights[t] = (1 - s) * norm + s * np.eye(len(ROLES))[SHARED_EXPERTISE]
    if x["outreach"] > 0:
        o = lv.outreach
        access = access.copy()
        ages = slice(o.age_from, min(o.age_to, base.max_age) + 1)
        quintiles = [q - 1 for q in o.deprivation_quintiles]
        factor = 1.0 + (o.access_multiplier - 1.0) * x["outreach"]
        access[:, ages, quintiles] = np.minimum(access[:, ages, quintiles] * factor, 1.0)
    if x["social_prescribing"] > 0:
        sp, k = lv.social_prescribing, x["social_prescribing"]
        referral = referral.copy()
        if base.referral_role[SOCIAL] == SPLW:
            referral[SOCIAL] += (sp.referral_probability - referral[SOCIAL]) * k
        match[SOCIAL, SPLW] = max(match[SOCIAL, SPLW], 0.0) + (sp.splw_resolution - max(match[SOCIAL, SPLW], 0.0)) * k
    caseload = np.full(len(lay.pcn_names), round(lv.complex_care.caseload * x["complex_care"]), np.int64)
    return base._replace(cap_rate=cap_rate, route_cum=routing(weights, cap_rate, lay.practice_pcn, lay.pcn_shared),
                         access=access, referral_prob=referral, match=match,
                         fit=(match >= sc.complexity.fit_threshold).astype(np.uint8), mdt_caseload=caseload)
