"""Where staff sit: allocations of FTE by role to practices and network pools, the simple policies PCNs
use, their staff cost, and writing an allocation back into a scenario.

An `Allocation` holds FTE for chosen roles at every capacity unit (each practice, then each PCN's network
pool). Policies share a total per role:
- `by_list_size`: across the practices in proportion to list size;
- `need_weighted`: in proportion to list size x a Carr-Hill-style need index (age-sex workload weights
  and a deprivation weight);
- `pooled`: all at network level, each PCN's pool getting its share of the registered list;
- `current`: what the scenario already has (the user-specified allocation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import layout
from ..scenario import Scenario

# Carr-Hill (2004) age-sex workload weights {lower age: (male, female)}, relative to men aged 15-44.
CARR_HILL_AGE_SEX = {0: (3.97, 3.64), 5: (1.69, 1.61), 15: (1.00, 2.19), 45: (2.14, 2.90), 65: (4.16, 4.44),
                     75: (6.01, 5.84), 85: (6.63, 6.53)}
# Additional need by deprivation quintile (1 = most deprived), *start* values in the spirit of the
# formula's additional-needs index: the most deprived fifth ~25% more workload per head than average.
DEPRIVATION_NEED = (1.25, 1.12, 1.0, 0.93, 0.87)
POLICIES = ("current", "by_list_size", "need_weighted", "pooled")


@dataclass
class Allocation:
    """FTE [role, unit] for the given roles; units are the scenario's practices, then its network pools."""

    roles: list[str]
    units: list[str]
    fte: np.ndarray

    def totals(self) -> dict[str, float]:
        return {r: float(self.fte[i].sum()) for i, r in enumerate(self.roles)}

    def as_dict(self) -> dict[str, float]:
        """Flat {role@unit: FTE}, for tables."""
        return {f"{r}@{u}": float(self.fte[i, j]) for i, r in enumerate(self.roles) for j, u in enumerate(self.units)}


def units(sc: Scenario) -> list[str]:
    return layout(sc).unit_names[: sum(len(p.practices) for p in sc.pcns) + len(sc.pcns)]


def current(sc: Scenario, roles: list[str]) -> Allocation:
    """The scenario's own FTE for these roles at each practice and pool (PCN-funded staff included)."""
    from ..vocab import ROLES

    lay = layout(sc)
    n = lay.n_practices + len(lay.pcn_names)
    return Allocation(list(roles), units(sc), np.array([lay.fte[:n, ROLES.index(r)] for r in roles]))


def need_index(sc: Scenario) -> np.ndarray:
    """Per practice: expected workload per head relative to an average list (Carr-Hill style)."""
    ages = sorted(CARR_HILL_AGE_SEX)
    out = []
    for pcn in sc.pcns:
        for p in pcn.practices:
            table = p.age_sex_table if p.age_sex_table is not None else sc.population.age_sex_pyramid
            weight = total = 0.0
            for lo, (males, females) in table.items():
                band = max(a for a in ages if a <= lo)
                wm, wf = CARR_HILL_AGE_SEX[band]
                weight += males * wm + females * wf
                total += males + females
            out.append(weight / total * float(np.dot(p.deprivation_mix, DEPRIVATION_NEED)))
    index = np.array(out)
    return index / index.mean()


def _share(total: float, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, float)
    return total * w / w.sum() if w.sum() > 0 else np.full(len(w), total / len(w))


def policy(sc: Scenario, name: str, roles: list[str], totals: dict[str, float] | None = None) -> Allocation:
    """The allocation a named policy makes of each role's total FTE (default: the scenario's current total)."""
    now = current(sc, roles)
    if name == "current":
        return now
    totals = totals or now.totals()
    sizes = np.array([p.list_size for pcn in sc.pcns for p in pcn.practices], float)
    n_p, n_c = len(sizes), len(sc.pcns)
    fte = np.zeros((len(roles), n_p + n_c))
    for i, role in enumerate(roles):
        if name == "by_list_size":
            fte[i, :n_p] = _share(totals[role], sizes)
        elif name == "need_weighted":
            fte[i, :n_p] = _share(totals[role], sizes * need_index(sc))
        elif name == "pooled":
            fte[i, n_p:] = _share(totals[role], np.array([sum(p.list_size for p in pcn.practices) for pcn in sc.pcns]))
        else:
            raise ValueError(f"unknown policy {name!r}; allowed: {', '.join(POLICIES)}")
    return Allocation(list(roles), now.units, fte)


def staff_cost(sc: Scenario, alloc: Allocation) -> float:
    """GBP per year of the allocated FTE (workforce.roles cost per FTE)."""
    return float(sum(alloc.fte[i].sum() * sc.workforce.roles[r].cost_per_fte_year for i, r in enumerate(alloc.roles)))


def override(sc: Scenario, alloc: Allocation) -> dict:
    """Scenario data (to merge onto `sc`) that puts exactly `alloc` in place: practice FTE set per practice,
    pool FTE as each PCN's network-level funded staff."""
    n_p = sum(len(p.practices) for p in sc.pcns)
    pcns, j = [], 0
    for c, pcn in enumerate(sc.pcns):
        practices = []
        for p in pcn.practices:
            fte = dict(p.fte)
            fte.update({r: float(alloc.fte[i, j]) for i, r in enumerate(alloc.roles)})
            practices.append({**p.model_dump(), "fte": fte})
            j += 1
        arrs = sc.pcn_funded_fte(pcn)
        arrs.update({r: float(alloc.fte[i, n_p + c]) for i, r in enumerate(alloc.roles)})
        pcns.append({**pcn.model_dump(), "practices": practices, "arrs_fte": arrs})
    return {"pcns": pcns, "workforce": {"pcn_role_level": {**sc.workforce.pcn_role_level,
                                                           **dict.fromkeys(alloc.roles, "network")}}}


def apply(sc: Scenario, alloc: Allocation) -> Scenario:
    """The scenario with `alloc` in place (everything else unchanged)."""
    from ..scenario import deep_merge, from_dict

    data = sc.model_dump()
    data["pcns"] = []  # replaced whole
    return from_dict(deep_merge(data, override(sc, alloc)))
