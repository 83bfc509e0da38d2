"""Synthetic registered population: list sizes per practice into patient slots, persons drawn by the engine.

Persons are drawn by the same kernel that draws births and new registrations (`engine.kernels.draw_person`),
from each practice's age-sex profile and deprivation mix, then needs segment and complexity by age and
deprivation, all with counter-based draws keyed by person id: the initial list and every later newcomer
come from one definition.
"""

from __future__ import annotations

import numpy as np

from . import engine
from .params import Layout


def practice_of_slots(list_sizes: np.ndarray) -> np.ndarray:
    """Slot -> practice index, practices in order, each with its list size of consecutive slots."""
    return np.repeat(np.arange(len(list_sizes), dtype=np.int32), list_sizes)


def synthesise(params: engine.Params, lay: Layout) -> engine.State:
    """A fresh state holding the day-0 registered population with empty diaries and no episodes."""
    n = int(lay.list_sizes.sum())
    state = engine.allocate_state(n, lay.n_units, params.horizon, params.mdt_min_contacts,
                                  n_groups=len(params.entrant_pid))
    engine.populate(state, params, practice_of_slots(lay.list_sizes))
    return state
