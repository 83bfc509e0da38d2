"""Network collaboration levers (docs/levers.md) applied to the engine's tables as they ramp up.

Each lever has a start day (counted from the first reported day) and a ramp. As it ramps, its staff come
into post in full (hired staff are paid whatever they achieve): that is its staffing intensity, 0 to 1.
What they achieve, and how far practices reorganise (pooling), is its effect intensity: the ramp times
the fidelity. Delivery capacity (project-management FTE) shortens the ramp and raises the fidelity, so it
changes what a lever does, not what it costs. Intensities are rounded to steps of 1/20, so tables are
rebuilt at most 20 times per lever. What each lever changes (staff: by staffing; the rest: by effect):
- pooled roles: a share of the PCN-funded practice-level FTE of chosen roles moves to the network pool;
- acute visiting service: paramedic FTE in the pool, and urgent home visits routed to it;
- social prescribing: link-worker FTE in the pool, higher referral and resolution of social needs;
- care navigation: care coordinators (the PCN's and extra ones hired into the pool) spend their time
  navigating instead of seeing patients: each working day they take as many of the PCN's requests as they
  have time for, in booking order, and book each with the best-fitting role that has a slot (engine);
  fidelity lowers how many they navigate;
- outreach: higher access propensity for chosen ages and deprivation quintiles;
- complex-care team: MDT FTE in the pool (plus GP sessions gifted by the practices, which lose them)
  and a caseload, sized by the staff in post, that fills by monthly case finding; enrolled patients'
  complex, mental-health and social needs go to the team, which takes them to A&E less (a care plan;
  not injuries or other needs) and de-escalates faster (engine), both as strong as the effect intensity;
- shared expertise: sessions of one practice's skilled practitioner move to the network pool as the
  shared-expertise role, which resolves the named need with the skilled probability;
- network of networks: a trust share of each member PCN's pool capacity in chosen roles moves to one
  pool shared by all members (trust 0 = separate PCNs, 1 = a single pool).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .continuity import usual_gp_by_unit
from .engine.state import Params
from .params import Layout, navigation_order, routing, routing_weights
from .scenario import Scenario
from .vocab import CARE_COORDINATOR, DAYS_PER_YEAR, GP, MDT, NEEDS, ROLES, SHARED_EXPERTISE, URGENT_HOME_VISIT

STEPS = 20
NAMES = ("pooled_roles", "acute_visiting", "social_prescribing", "care_navigation", "outreach", "complex_care",
         "shared_expertise", "network_of_networks")
PARAMEDIC, SPLW = ROLES.index("paramedic"), ROLES.index("splw")
SESSIONS_PER_FTE = 10  # a session is half a working day
SOCIAL = NEEDS.index("social")


class Intensity(NamedTuple):
    """How far a lever has come: `staff`, the share of its staff in post (the ramp; 0 to 1), and `effect`, the
    share of its intended effect realised (the ramp x the fidelity delivery capacity allows)."""

    staff: float
    effect: float


OFF = Intensity(0.0, 0.0)


def intensities(sc: Scenario, day: int) -> dict[str, Intensity]:
    """Each lever's staffing and effect intensities on absolute model day `day`."""
    lv = sc.levers
    d = lv.delivery
    resourced = min(1.0, d.project_manager_fte / d.fte_for_full_delivery)
    fidelity = d.fidelity_without + (1.0 - d.fidelity_without) * resourced
    t = day - sc.simulation.burn_in_years * DAYS_PER_YEAR
    out = {}
    for name in NAMES:
        lever = getattr(lv, name)
        if not lever.enabled or t < lever.start_day:
            out[name] = OFF
            continue
        ramp = (lever.ramp_days if lever.ramp_days is not None else d.ramp_days) * (1.0 - d.ramp_reduction * resourced)
        progress = 1.0 if ramp <= 0 else min(1.0, (t - lever.start_day + 1) / ramp)
        out[name] = Intensity(round(progress * STEPS) / STEPS, round(fidelity * progress * STEPS) / STEPS)
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


def deploy(sc: Scenario, lay: Layout, units: list[Staff], x: dict[str, Intensity]) -> None:
    """Move staff between the units (by unit index: practices, PCN pools, then any shared pool), each holding
    its rota's FTE, as the levers at intensities x do: staff hired and sessions given by their staffing
    intensity, roles pooled by their effect intensity (how far practices reorganise)."""
    n_p = lay.n_practices
    practices = units[:n_p]
    pools = units[n_p:n_p + len(lay.pcn_names)]

    def pool_of(p: int) -> Staff:
        return pools[lay.practice_pcn[p]]

    lv = sc.levers
    if x["pooled_roles"].effect > 0:
        share = lv.pooled_roles.share * x["pooled_roles"].effect
        for role in lv.pooled_roles.roles:
            r = ROLES.index(role)
            for p, practice in enumerate(practices):
                practice.give(r, lay.pcn_funded[p, r] * share, pool_of(p))
    for pool in pools:
        pool.hire(PARAMEDIC, lv.acute_visiting.paramedic_fte * x["acute_visiting"].staff)
        pool.hire(SPLW, lv.social_prescribing.extra_splw_fte * x["social_prescribing"].staff)
        pool.hire(CARE_COORDINATOR, lv.care_navigation.extra_care_coordinator_fte * x["care_navigation"].staff)
    in_post = x["complex_care"].staff
    if in_post > 0:
        for pool in pools:
            pool.hire(MDT, lv.complex_care.fte * in_post)
        for p, practice in enumerate(practices):  # GP sessions gifted to the team
            gifted = min(practice.fte[GP], lv.complex_care.gifted_gp_fte_per_practice * in_post)
            practice.give(GP, gifted, pool_of(p), as_role=MDT)
    if x["shared_expertise"].staff > 0:
        se = lv.shared_expertise
        home = lay.practice_names.index(se.home_practice or lay.practice_names[0])
        r = ROLES.index(se.home_role)
        given = min(practices[home].fte[r], se.sessions_per_week / SESSIONS_PER_FTE * x["shared_expertise"].staff)
        practices[home].give(r, given, pool_of(home), as_role=SHARED_EXPERTISE)
    if x["network_of_networks"].effect > 0:
        trust = lv.network_of_networks.trust * x["network_of_networks"].effect
        for c in np.flatnonzero(lay.pcn_shared >= 0):  # member PCNs in order
            for role in lv.network_of_networks.roles:
                r = ROLES.index(role)
                pools[c].give(r, pools[c].fte[r] * trust, units[lay.pcn_shared[c]])


def apply(sc: Scenario, base: Params, lay: Layout, x: dict[str, Intensity], cap_rate: np.ndarray) -> Params:
    """Engine tables with the levers at intensities x (capacity already built from the agents' FTE): what the
    levers change in routing, access, referral and resolution by their effect intensity; the complex-care
    caseload by the team's staff in post; the usual-GP chance at each practice by the GPs it then holds."""
    lv = sc.levers
    effect = {name: intensity.effect for name, intensity in x.items()}
    weights = routing_weights(sc)
    if effect["acute_visiting"] > 0:
        s = lv.acute_visiting.share_of_home_visits * effect["acute_visiting"]
        visit = weights[URGENT_HOME_VISIT] / weights[URGENT_HOME_VISIT].sum()
        weights[URGENT_HOME_VISIT] = (1 - s) * visit + s * np.eye(len(ROLES))[PARAMEDIC]
    nav_per_day = base.nav_per_day
    if effect["care_navigation"] > 0:  # care coordinators' slot time becomes navigation time
        k = effect["care_navigation"]
        cn, n_p = lv.care_navigation, lay.n_practices
        per_slot = cn.navigations_per_fte_day / sc.workforce.roles["care_coordinator"].contacts_per_fte_day
        slots = np.array([cap_rate[:n_p][lay.practice_pcn == c, CARE_COORDINATOR].sum()
                          + cap_rate[n_p + c, CARE_COORDINATOR] for c in range(len(lay.pcn_names))])
        nav_per_day = slots * per_slot * k
        cap_rate = cap_rate.copy()
        cap_rate[:, CARE_COORDINATOR] *= 1.0 - k
    access, referral, match = base.access, base.referral_prob, base.match.copy()
    if effect["shared_expertise"] > 0:
        se = lv.shared_expertise
        t = NEEDS.index(se.skill)
        match[t, SHARED_EXPERTISE] = se.skilled_resolution
        s = se.routing_share * effect["shared_expertise"]
        norm = weights[t] / weights[t].sum()
        weights[t] = (1 - s) * norm + s * np.eye(len(ROLES))[SHARED_EXPERTISE]
    if effect["outreach"] > 0:
        o = lv.outreach
        access = access.copy()
        ages = slice(o.age_from, min(o.age_to, base.max_age) + 1)
        quintiles = [q - 1 for q in o.deprivation_quintiles]
        factor = 1.0 + (o.access_multiplier - 1.0) * effect["outreach"]
        access[:, ages, quintiles] = np.minimum(access[:, ages, quintiles] * factor, 1.0)
    if effect["social_prescribing"] > 0:
        sp, k = lv.social_prescribing, effect["social_prescribing"]
        referral = referral.copy()
        if base.referral_role[SOCIAL] == SPLW:
            referral[SOCIAL] += (sp.referral_probability - referral[SOCIAL]) * k
        match[SOCIAL, SPLW] = max(match[SOCIAL, SPLW], 0.0) + (sp.splw_resolution - max(match[SOCIAL, SPLW], 0.0)) * k
    cc = lv.complex_care
    caseload = np.full(len(lay.pcn_names), round(cc.caseload * x["complex_care"].staff), np.int64)
    return base._replace(cap_rate=cap_rate, route_cum=routing(weights, cap_rate, lay.practice_pcn, lay.pcn_shared),
                         access=access, referral_prob=referral, match=match,
                         fit=(match >= sc.complexity.fit_threshold).astype(np.uint8), mdt_caseload=caseload,
                         nav_per_day=nav_per_day, nav_order=navigation_order(match),
                         mdt_ae_mult=1.0 + (cc.ae_multiplier - 1.0) * effect["complex_care"],
                         mdt_desc_mult=1.0 + (cc.deescalation_multiplier - 1.0) * effect["complex_care"],
                         usual_gp=usual_gp_by_unit(sc, cap_rate, lay.n_practices))
