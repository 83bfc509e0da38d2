"""Continuity of GP care (docs/model.md): whether a GP contact is with the patient's usual GP, each patient's
memory of their latest GP contacts, and the risks that memory scales.

Every patient has a usual GP at their practice. A GP contact there is with that GP with the practice's chance
(`Params.usual_gp`, from part-time working and the number of GPs: `pcnsim.continuity`); a GP contact in a
network or shared pool never is. A contact with the usual GP resolves the need more often. The share of the
patient's latest GP contacts (up to GP_MEMORY) that were with the usual GP is their continuity index; it
scales the chance that a need episode takes them to A&E and that such an attendance ends in admission
(tables by [contacts remembered, of them with the usual GP], 1 with fewer than two contacts).
"""

import numpy as np

from . import rng as R
from .config import jit
from .counters import count
from .state import C_GP_USUAL, GP_MEMORY

_ALL = np.int64((1 << GP_MEMORY) - 1)


@jit
def with_usual_gp(S, P, T, i, k, unit, day):
    """Whether patient i's GP contact for episode k at `unit` today is with their usual GP: counted, and
    remembered as the newest of their latest GP contacts (the oldest one forgotten once GP_MEMORY are held)."""
    rec = S.patients[i]
    usual = R.uniform(P.keys[R.USUAL_GP], rec["pid"], day, k) < P.usual_gp[unit]
    if usual:
        count(S, T, i, C_GP_USUAL, day, 1)
    rec["gp_history"] = ((np.int64(rec["gp_history"]) << np.int64(1)) | np.int64(usual)) & _ALL
    rec["gp_seen"] = min(np.int64(rec["gp_seen"]) + 1, GP_MEMORY)
    return usual


@jit
def usual_in_memory(history):
    """How many of the remembered GP contacts (the set bits of `history`) were with the usual GP."""
    x = np.int64(history)
    x = x - ((x >> 1) & 0x55)
    x = (x & 0x33) + ((x >> 2) & 0x33)
    return (x + (x >> 4)) & 0x0F


@jit
def continuity_factor(table, rec):
    """A patient's multiplier from a continuity table, by their remembered GP contacts."""
    return table[np.int64(rec["gp_seen"]), usual_in_memory(rec["gp_history"])]


@jit
def ae_continuity(S, P, i):
    """Multiplier on the chance that patient i's need episode takes them to A&E (direct or after no slot)."""
    return continuity_factor(P.continuity_ae, S.patients[i])


@jit
def admission_continuity(S, P, i):
    """Multiplier on the chance that patient i's A&E attendance for a need episode ends in admission."""
    return continuity_factor(P.continuity_admit, S.patients[i])
