"""PCNModel: the Mesa model around the engine.

Practices and network pools are Mesa agents that own capacity (FTE by role, contacts per FTE-day);
the engine's capacity table is assembled from them, so what an agent holds is what the simulation
offers, and levers that pool roles or add network services move FTE between them week by week.
Patients stay in the engine's arrays. One model step is one week; at each year boundary the engine writes
every patient's yearly counters (and those of people who died or left) into the rows of a table.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from . import dictionary, engine, levers, params, population
from .engine import state as st
from .partition import PersonIds
from .scenario import Scenario
from .vocab import COUNTER_NAMES, DAYS_PER_YEAR, ROLES, SEGMENTS, SETTINGS, SEXES

WEEK = 7
WEEKS_PER_YEAR = DAYS_PER_YEAR // WEEK


def daily_steps() -> list[tuple[str, str, str]]:
    """The engine's daily step order as (name, when, what happens), as the day loop runs it."""
    return [(step.name, step.when, step.description) for step in engine.STEPS]


class CapacityUnit(levers.Staff, mesa.Agent):
    """A place that holds staff and offers slots: a practice, or a network pool. Levers move its staff
    (`levers.Staff.hire`, `give`); the slots it offers follow from what it holds."""

    def __init__(self, model: PCNModel, name: str, unit: int, pcn: int, fte: np.ndarray, handoff: float = 0.0):
        mesa.Agent.__init__(self, model)
        levers.Staff.__init__(self, fte)
        self.name = name
        self.unit = unit
        self.pcn = pcn
        self.handoff = handoff

    def slots_per_day(self, contacts_per_fte_day: np.ndarray) -> np.ndarray:
        """Slots per working day by role (before the same-day/routine split)."""
        return params.slots_per_day(self.fte, contacts_per_fte_day, self.handoff)


class Practice(CapacityUnit):
    """A member practice: serves only its own registered patients."""

    def __init__(self, model, name, unit, pcn, fte, list_size: int):
        super().__init__(model, name, unit, pcn, fte)
        self.list_size = list_size


class NetworkPool(CapacityUnit):
    """A PCN's network pool: serves any member practice's patients, losing a share of its time to hand-offs.
    The shared pool of a network of networks is one too (pcn = -1), serving every member PCN's patients."""

    def __init__(self, model, name, unit, pcn, fte):
        super().__init__(model, name, unit, pcn, fte, handoff=model.scenario.workforce.network_handoff_cost)


class PCNModel(mesa.Model):
    """One replicate of a scenario: engine state plus the practices and pools that own capacity."""

    def __init__(self, scenario: Scenario, seed: int, replicate: int = 0, ledger: bool = False,
                 keep_patients: bool = True, ids: PersonIds | None = None):
        """`ids`: how persons are numbered (default: the scenario as a whole place); a group of a larger
        place simulated alone passes `pcnsim.partition.Partition(place).ids(group)`."""
        super().__init__(seed=seed)
        self.scenario = scenario
        self.run_seed = seed
        self.replicate = replicate
        self.keep_patients = keep_patients
        self.params, self.layout = params.build(scenario, seed, ids)
        lay = self.layout
        self.practices = [
            Practice(self, name, p, int(lay.practice_pcn[p]), lay.fte[p], int(lay.list_sizes[p]))
            for p, name in enumerate(lay.practice_names)
        ]
        self.pools = [
            NetworkPool(self, f"{name} network pool", lay.n_practices + c, c, lay.fte[lay.n_practices + c])
            for c, name in enumerate(lay.pcn_names)
        ]
        if lay.shared_pool >= 0:
            self.pools.append(NetworkPool(self, lay.unit_names[lay.shared_pool], lay.shared_pool, -1,
                                          lay.fte[lay.shared_pool]))
        # Mesa counts agent ids in a class-level dict keyed by model, which would keep every model (and its
        # engine state) alive after use, growing a process that runs many replicates. All of this model's
        # agents exist now, so its counter is no longer needed.
        getattr(mesa.Agent, "_ids", {}).pop(self, None)
        self.base_params = self.params
        self.lever_intensity = dict.fromkeys(levers.NAMES, levers.OFF)
        self.apply_levers(0, first=True)  # the first rota, with the levers already in force on day 0
        self.state = population.synthesise(self.params, lay)
        self.n_days = int(self.params.working.shape[0])
        n = int(lay.list_sizes.sum())
        exit_capacity = params.exit_capacity(self.params, lay.list_sizes)  # a year's deaths and leavers
        ledger_capacity = n * 40 + 10_000 if ledger else 0  # touchpoints per person-year are ~8
        self.burn_in_years = scenario.simulation.burn_in_years
        # the per-patient yearly table: room for every reported year at the most leavers a year can hold (the
        # engine writes each year's rows at its end; pages never written cost no memory)
        reported_years = self.n_days // DAYS_PER_YEAR - self.burn_in_years
        table_rows = reported_years * (n + exit_capacity) if keep_patients else 0
        self.tally = engine.allocate_tally(self.n_days // WEEK + 1, lay.n_practices, lay.n_units,
                                           exit_capacity, ledger_capacity, table_rows)
        # staff in post by reported year, unit and role, in FTE-days (the year's staff cost: FTE-years x cost)
        self.staff_days = np.zeros((reported_years, lay.n_units, len(ROLES)))
        self.workspace = engine.allocate_workspace(n, len(lay.pcn_names))
        self.day = 0
        # the per-patient yearly table's columns (the tally's, by name) and each closed year's rows
        self._rows: dict[str, np.ndarray] | None = dict(zip(st.TABLE_COLUMNS, self.tally.table, strict=True))
        self._row_years: list[tuple[int, int]] = []
        self._labels: dict[str, pd.CategoricalDtype] | None = None
        self.ledger_tables: list[pd.DataFrame] = []

    # ---- capacity owned by agents --------------------------------------------------------------------
    @property
    def units(self) -> list[CapacityUnit]:
        return [*self.practices, *self.pools]

    def staffing(self) -> np.ndarray:
        """FTE in post by unit and role, as the practice and pool agents hold them now."""
        return np.array([unit.fte for unit in self.units])

    def capacity(self) -> np.ndarray:
        """Slots per working day by unit and role, from what the practice and pool agents hold."""
        contacts = params.contacts_per_fte_day(self.scenario)
        return np.array([unit.slots_per_day(contacts) for unit in self.units])

    def apply_levers(self, day: int, first: bool = False) -> None:
        """As the levers ramp up: each agent back to its rota's staff, the levers' moves between them, and the
        engine's tables from what they then hold (on the `first` day whatever the levers)."""
        x = levers.intensities(self.scenario, day)
        if x == self.lever_intensity and not first:
            return
        self.lever_intensity = x
        for unit in self.units:
            unit.fte = self.layout.fte[unit.unit].copy()
        levers.deploy(self.scenario, self.layout, self.units, x)
        self.params = levers.apply(self.scenario, self.base_params, self.layout, x, self.capacity())

    # ---- stepping --------------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.day >= self.n_days

    def step(self) -> None:
        """Advance one week; close the year at year boundaries."""
        self.advance(1)

    def advance(self, weeks: int) -> int:
        """Advance up to `weeks` weeks in one call of the engine, with the numbers of as many calls of `step`;
        returns the weeks advanced (0 once finished). A call stops early at the end of a year (closed here),
        at the end of the run, and before a week in which a lever's intensity changes (fewer calls have less
        overhead)."""
        if weeks < 1:
            raise ValueError(f"weeks must be at least 1, not {weeks}")
        if self.finished:
            self.running = False
            return 0
        d0 = self.day
        self.apply_levers(d0)
        end = min(self.n_days, (d0 // DAYS_PER_YEAR + 1) * DAYS_PER_YEAR)
        d1 = min(d0 + WEEK, end)
        steady = not levers.any_enabled(self.scenario)
        while d1 < end and d1 - d0 < weeks * WEEK and (
                steady or levers.intensities(self.scenario, d1) == self.lever_intensity):
            d1 = min(d1 + WEEK, end)
        n_weeks = -(-(d1 - d0) // WEEK)
        year_end = d1 % DAYS_PER_YEAR == 0
        keep = year_end and self._reported_year(d1) >= 0 and self.keep_patients and self._rows is not None
        rows_at = sum(rows for _, rows in self._row_years) if keep else None
        saved = self._snapshot() if self.tally.ledger_on else None
        engine.advance(self.state, self.params, self.tally, self.workspace, d0, d1, year_end, rows_at,
                       zero_counters=year_end)
        while saved is not None and self.tally.n_ledger[0] > self.tally.ledger.shape[0]:
            # the days' touchpoints outgrew the ledger: make it twice as big and run the same days again from
            # before them (the engine is a pure function of its state, so the numbers are the same)
            self._restore(saved)
            self._grow_ledger()
            engine.advance(self.state, self.params, self.tally, self.workspace, d0, d1, year_end, rows_at,
                           zero_counters=year_end)
        year = self._reported_year((d0 // DAYS_PER_YEAR + 1) * DAYS_PER_YEAR)  # a call never crosses a year's end
        if year >= 0:
            self.staff_days[year] += self.staffing() * (d1 - d0)
        self.day = d1
        if year_end:
            self._close_year(d1, rows_at is not None)
        self.running = not self.finished
        return n_weeks

    def _snapshot(self) -> list:
        """Copies of everything an engine call changes but the ledger's rows and the per-patient table's
        (which the same call writes again)."""
        T = self.tally
        arrays = [*self.state.kernel, *self.workspace, T.weekly, T.cap_offered, T.cap_used, T.exit_meta,
                  T.exit_counters, T.n_exits, T.n_ledger]
        return [(a, a.copy()) for a in arrays]

    def _restore(self, saved: list) -> None:
        for array, copy in saved:
            np.copyto(array, copy)

    def _grow_ledger(self) -> None:
        """Twice the ledger's room, keeping its rows (written before the call being run again)."""
        T = self.tally
        bigger = np.zeros((2 * T.ledger.shape[0], T.ledger.shape[1]), T.ledger.dtype)
        bigger[: T.ledger.shape[0]] = T.ledger
        self.tally = T._replace(ledger=bigger)

    def _reported_year(self, day: int) -> int:
        """The reported year (from 0) that ends on `day`; negative for the burn-in years."""
        return day // DAYS_PER_YEAR - 1 - self.burn_in_years

    def _close_year(self, day: int, wrote_rows: bool) -> None:
        """After the engine closed the year ending on `day` (wrote its rows of the table, if kept, and zeroed
        the yearly counters): note the rows, read the ledger, then zero the leavers' and ledger counts."""
        S, T = self.state, self.tally
        n_exits = int(T.n_exits[0])
        if n_exits > T.exit_meta.shape[0]:
            raise RuntimeError(f"{n_exits} leavers in a year overflowed the buffer of {T.exit_meta.shape[0]}")
        year = self._reported_year(day)
        if year >= 0:
            if wrote_rows:
                self._row_years.append((year, S.pid.shape[0] + n_exits))
            if T.ledger_on:
                self.ledger_tables.append(self._ledger_rows(int(T.n_ledger[0])))
        T.n_exits[0] = 0
        T.n_ledger[0] = 0

    def patient_table(self) -> pd.DataFrame | None:
        """The per-patient yearly table of the reported years closed so far (None if none, or not kept): a
        row per person listed at a year's end, then one per person who died or left during it, with their
        yearly counters. Its columns are views of the model's (no copy but the practice codes, which pandas
        narrows), so the years need no join."""
        if not self._row_years:
            return None
        lay = self.layout
        if self._labels is None:  # the categories are made and checked once a run, not every year
            self._labels = {name: pd.CategoricalDtype(labels) for name, labels in (
                ("practice", lay.practice_names), ("pcn", lay.pcn_names), ("sex", list(SEXES)),
                ("segment", list(SEGMENTS)), ("exit", ["none", "died", "left"]))}
        label = self._labels
        rows = sum(n for _, n in self._row_years)
        col = {name: a[:rows] for name, a in self._rows.items()}

        def category(name: str, codes: np.ndarray) -> pd.Categorical:  # codes made in range by the engine
            return pd.Categorical.from_codes(codes, dtype=label[name], validate=False)

        columns = {
            "replicate": np.full(rows, self.replicate, np.int64),
            "year": np.repeat(np.array([y for y, _ in self._row_years], np.int64), [n for _, n in self._row_years]),
            "patient_id": col["patient_id"],
            "practice": category("practice", col["practice"]),
            "pcn": category("pcn", lay.practice_pcn[col["practice"]]),
            "ods_code": dictionary.codes(lay.practice_codes, col["practice"]),
            "pcn_code": dictionary.codes(lay.pcn_codes, lay.practice_pcn[col["practice"]]),
            "age": col["age"],
            "sex": category("sex", col["sex"]),
            "deprivation": col["deprivation"],
            "segment": category("segment", col["segment"]),
            "complexity": col["complexity"],
            "registered_days": col["registered_days"],
            "exit": category("exit", col["exit"]),
        }
        counters, n_settings = col["counters"], len(SETTINGS)
        # the counters as views of one block (adding them column by column copied each)
        return pd.concat([
            pd.DataFrame(columns, copy=False),
            pd.DataFrame(counters[:, :n_settings], columns=list(SETTINGS), copy=False),
            pd.DataFrame({"primary_care_contacts": col["primary"]}, copy=False),
            pd.DataFrame(counters[:, n_settings:], columns=list(COUNTER_NAMES), copy=False),
        ], axis=1)

    def release_patient_table(self) -> None:
        """Forget the patient table's columns (tables made by `patient_table` keep theirs), so that their
        memory goes once those tables go (`results.join_tables` frees each replicate's as it copies it)."""
        self._rows = None
        self._row_years = []

    def _ledger_rows(self, n: int) -> pd.DataFrame:
        """Ledger rows as a table; days count from the first reported day (burn-in excluded)."""
        from .vocab import NEEDS, OUTCOMES, URGENCIES

        rows = self.tally.ledger[:n]
        unit_names = self.layout.unit_names
        unit = rows[:, st.L_UNIT]
        need = rows[:, st.L_NEED]
        day = (rows[:, st.L_DAY] - self.burn_in_years * DAYS_PER_YEAR).astype(np.int32)
        return pd.DataFrame({
            "replicate": self.replicate,
            "day": day,
            "date": dictionary.dates(np.datetime64(self.scenario.simulation.start_date, "D") + day),
            "patient_id": rows[:, st.L_PID],
            "setting": pd.Categorical.from_codes(rows[:, st.L_SETTING], list(SETTINGS)),
            "unit": pd.Categorical.from_codes(np.where(unit >= 0, unit, -1), unit_names),
            "need": pd.Categorical.from_codes(np.where(need >= 0, need, -1), list(NEEDS)),
            "outcome": pd.Categorical.from_codes(rows[:, st.L_OUTCOME], list(OUTCOMES)),
            "urgency": pd.Categorical.from_codes(rows[:, st.L_URGENCY], list(URGENCIES)),
            "episode_slot": rows[:, st.L_EPISODE].astype(np.int8),
        })
