"""The model's daily rules as an idiomatic Mesa model: every patient is a `mesa.Agent`, the model a
`mesa.Model` stepped one day at a time.

The rules are the plain-Python reference's (tests/reference.py), so this runs event for event with the
numba engine (same counter-based draws); what changes is the representation that the engine's speed is
compared against: agent objects registered with a Mesa model, created when a person is born or
registers and removed when they die or leave. Patients are visited in slot order (the engine's order),
kept as a list of agents beside the model's AgentSet.
"""

from __future__ import annotations

import mesa

from .reference import Patient, Reference, ReferenceResult


class PatientAgent(Patient, mesa.Agent):
    """A registered person: the reference's patient fields on a Mesa agent."""

    __hash__ = mesa.Agent.__hash__  # agents live in Mesa's weak sets, so identity, not field equality
    __eq__ = object.__eq__

    def __init__(self, model: MesaPCN, **fields):
        Patient.__init__(self, **fields)
        mesa.Agent.__init__(self, model)


class MesaPCN(Reference, mesa.Model):
    """The PCN as a Mesa model; `step()` runs one day of the daily step."""

    def __init__(self, params, layout, ledger: bool = True):
        mesa.Model.__init__(self, seed=int(params.keys[0]) % 2**32)  # before any agent is created
        Reference.__init__(self, params, layout, ledger=ledger)
        self.day = 0

    def draw_person(self, pid: int, practice: int, day: int, newborn: bool) -> PatientAgent:
        person = Reference.draw_person(self, pid, practice, day, newborn)
        return PatientAgent(self, **{f: getattr(person, f) for f in Patient.__dataclass_fields__})

    def exit(self, patient: PatientAgent, day: int, reason: int):
        Reference.exit(self, patient, day, reason)
        patient.remove()  # leaves the model; a new agent takes the slot

    def step(self) -> None:
        self.run_day(self.day)
        self.day += 1


def simulate(params, layout, n_days: int, ledger: bool = True) -> ReferenceResult:
    """Run the Mesa model over days [0, n_days) and close the year (as `reference.simulate`)."""
    model = MesaPCN(params, layout, ledger=ledger)
    for _ in range(n_days):
        model.step()
    model.close_year(n_days)
    return ReferenceResult(
        ledger=model.ledger, counters={p.pid: list(p.counters) for p in model.patients}, exit_meta=model.exit_meta,
        exit_counters=model.exit_counters, weekly=model.weekly, cap_offered=model.cap_offered,
        cap_used=model.cap_used, patients=model.patients, units=model.units, stats=model.stats,
    )
