"""Continuity of GP care in the numbers the engine looks up (docs/model.md, Continuity of care): the chance
that a GP contact at each capacity unit is with the patient's usual GP, the factor on the chance such a
contact resolves the need, and the multipliers a patient's continuity index puts on A&E and admission.

The usual-GP chance at a practice with F GP FTE, where GPs work f FTE each (so F / f of them by
headcount) and a patient gets their usual GP with chance a on a day that GP works:

    p = f * (a + (1 - a) / n),    n = max(1, 1 + F - f),

n being how many GPs work on a day the usual GP works (the usual GP and f of each of the others): the
usual GP works that day with chance f; the patient then books them with chance a, or else takes one of
the n working GPs alike. So p falls as GPs work fewer days (smaller f) and as the practice has more GPs
(larger F, hence larger lists). A GP contact in a network or shared pool is never with the usual GP.
"""

from __future__ import annotations

import numpy as np

from .engine.state import GP_MEMORY
from .scenario import Scenario
from .vocab import GP

UPC_STEP = 0.2  # the rate ratios are per 0.2 of the continuity index, the step Barker et al. (2017) report


def usual_gp_chance(fte_per_gp: float, preference: float, gp_fte: np.ndarray) -> np.ndarray:
    """The chance a GP contact at a practice with `gp_fte` GP FTE (an array: one practice each) is with the
    patient's usual GP (the module's formula)."""
    working = np.maximum(1.0, 1.0 + np.asarray(gp_fte, float) - fte_per_gp)
    return fte_per_gp * (preference + (1.0 - preference) / working)


def usual_gp_by_unit(sc: Scenario, slots: np.ndarray, n_practices: int) -> np.ndarray:
    """The usual-GP chance at every capacity unit (the rows of `slots`, slots a working day by unit and role):
    at each practice from its GP FTE (its GP slots over a GP's contacts per FTE-day; a practice loses no
    slots to hand-offs), 0 in the network and shared pools."""
    c = sc.continuity
    gp_fte = slots[:n_practices, GP] / sc.workforce.roles["gp"].contacts_per_fte_day
    chance = np.zeros(slots.shape[0])
    chance[:n_practices] = usual_gp_chance(c.gp_fte_per_headcount, c.usual_gp_preference, gp_fte)
    return chance


def risk_table(rate_ratio: float, reference: float) -> np.ndarray:
    """Multipliers [GP contacts remembered, of them with the usual GP]: rate_ratio ** ((index - reference) /
    UPC_STEP), the index being the share with the usual GP; 1 with fewer than two remembered contacts (the
    index is then undefined, as in studies that require two or more GP contacts)."""
    table = np.ones((GP_MEMORY + 1, GP_MEMORY + 1))
    for seen in range(2, GP_MEMORY + 1):
        for usual in range(seen + 1):
            table[seen, usual] = rate_ratio ** ((usual / seen - reference) / UPC_STEP)
    return table


def engine_tables(sc: Scenario, slots: np.ndarray, n_practices: int) -> dict[str, np.ndarray | float]:
    """The engine's continuity parameters (`engine.state.Params`) for capacity `slots`."""
    c = sc.continuity
    return {"usual_gp": usual_gp_by_unit(sc, slots, n_practices), "usual_gp_resolve": 1.0 + c.resolution_uplift,
            "continuity_ae": risk_table(c.ae_rate_ratio, c.reference_index),
            "continuity_admit": risk_table(c.admission_rate_ratio, c.reference_index)}
