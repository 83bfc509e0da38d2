"""The place of a scenario: the simulation calendar, PCNs and practices, the workforce and the population.

Part of the scenario schema (`pcnsim.schema` holds the rest and `Scenario`); every field carries a default,
a unit and allowed range in its description, and its bounds.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator

from .schema_types import (
    FTE,
    AgeBanded,
    AgeSexTable,
    ByLevel,
    ByQuintile,
    ComplexSegmentName,
    Money,
    OdsCode,
    Probability,
    RoleName,
    SegmentName,
    Strict,
    check_age_banded,
    check_age_sex_table,
)
from .vocab import ROLES

# --------------------------------------------------------------------------------------------------
# Simulation and structure
# --------------------------------------------------------------------------------------------------


class Simulation(Strict):
    seed: int = Field(20261123, ge=0, le=2**63 - 1, description="Root seed of the run (replicate seeds are spawned "
                      "from it).")
    years: int = Field(1, ge=1, le=50, description="Reported horizon in model years (a model year is 52 weeks).")
    burn_in_years: int = Field(1, ge=0, le=20, description="Years simulated before reporting starts (not reported).")
    start_date: date = Field(date(2025, 4, 7), ge=date(1990, 1, 1), le=date(2090, 12, 31),
                             description="Date of the first reported day (the burn-in runs in the 52-week years "
                             "before it); weeks start on its weekday. Default: Monday 7 April 2025, so the first "
                             "reported year's weeks all start in financial year 2025/26.")
    bank_holiday_calendar: Literal["england-and-wales", "none"] = Field(
        "england-and-wales",
        description="Whose bank holidays close practices and PCN services: 'england-and-wales' (the calendar "
        "for the run's dates, substitute days included) or 'none'.",
    )
    closed_dates: list[date] = Field(
        default_factory=list,
        description="Other dates on which every practice and PCN service is closed (e.g. a protected learning "
        "day); weekends are closed anyway.",
    )


class Practice(Strict):
    name: str = Field(description="Practice name, used in results.")
    ods_code: OdsCode | None = Field(None, description="The practice's ODS code (e.g. A81001), carried into every "
                                     "results table so results join to NHS data.")
    list_size: int = Field(ge=1, le=200_000, description="Registered patients (persons).")
    deprivation_mix: list[Probability] = Field(
        default_factory=lambda: [0.2, 0.2, 0.2, 0.2, 0.2],
        min_length=5,
        max_length=5,
        description="Share of the list in each deprivation quintile, 1 = most deprived first; sums to 1.",
    )
    fte: dict[RoleName, FTE] = Field(
        default_factory=dict,
        description="FTE by role employed by this practice; overrides workforce.practice_fte_per_1000.",
    )
    age_sex_table: AgeSexTable | None = Field(
        None,
        description="Optional list profile {lower age of band: [males, females]}; default: population pyramid.",
    )
    same_day_reserve: dict[RoleName, Probability] = Field(
        default_factory=dict,
        description="This practice's share of each day's slots held back for same-day and urgent requests, by "
        "role, where it differs from booking.same_day_reserve (then booking.same_day_share).",
    )

    @field_validator("deprivation_mix")
    @classmethod
    def _sums_to_one(cls, v: list[float]) -> list[float]:
        if abs(sum(v) - 1.0) > 1e-6:
            raise ValueError(f"must sum to 1 (got {sum(v):.4f})")
        return v

    @field_validator("age_sex_table")
    @classmethod
    def _table(cls, v: dict | None) -> dict | None:
        return None if v is None else check_age_sex_table(v)


class PCN(Strict):
    name: str = Field(description="PCN name, used in results.")
    code: OdsCode | None = Field(None, description="The PCN's ODS code (e.g. U12345), carried into every results "
                                 "table.")
    practices: list[Practice] = Field(min_length=1, description="Member practices.")
    arrs_fte: dict[RoleName, FTE] | None = Field(
        None, description="ARRS / PCN-funded FTE by role for this PCN, every role absolute; default: "
        "workforce.pcn_fte_per_1000 x the PCN's list size, or workforce.pcn_fte where it names a role."
    )

    @property
    def list_size(self) -> int:
        return sum(p.list_size for p in self.practices)


def default_pcns() -> list[PCN]:
    # One PCN of ~42,000 patients in 5 practices (docs/model.md, The world) with a mix of deprivation.
    return [
        PCN(
            name="Riverside PCN",
            practices=[
                Practice(name="Riverside Health Centre", list_size=13000,
                         deprivation_mix=[0.35, 0.30, 0.20, 0.10, 0.05]),
                Practice(name="Parkview Surgery", list_size=10000,
                         deprivation_mix=[0.15, 0.25, 0.30, 0.20, 0.10]),
                Practice(name="Old Mill Practice", list_size=8000,
                         deprivation_mix=[0.05, 0.15, 0.25, 0.30, 0.25]),
                Practice(name="Station Road Surgery", list_size=6000,
                         deprivation_mix=[0.50, 0.30, 0.12, 0.05, 0.03]),
                Practice(name="Hillside Medical Group", list_size=5000,
                         deprivation_mix=[0.02, 0.08, 0.20, 0.30, 0.40]),
            ],
        )
    ]


# --------------------------------------------------------------------------------------------------
# Workforce
# --------------------------------------------------------------------------------------------------


class Role(Strict):
    contacts_per_fte_day: float = Field(gt=0, le=100, description="Contacts one FTE delivers per working day.")
    cost_per_fte_year: Money = Field(description="Employment cost per FTE per year: salary and employer's on-costs "
                                     "(National Insurance, pension), GBP at the price year of costs.price_year.")


def _default_roles() -> dict[RoleName, Role]:
    # Contacts per FTE-day: docs/model.md, The world (start). Employment cost per FTE-year, salary plus
    # employer's on-costs, 2023/24 prices unless said:
    # - ARRS maximum reimbursement amounts (NHS England Network Contract DES, from 1 July 2023): clinical
    #   pharmacist and first contact physio 62,340; link worker 40,159; care coordinator 33,396;
    # - salaried GP: the ARRS amount for a newly qualified GP from 1 October 2024 (2024/25), 92,462;
    # - Agenda for Change Band 7, community and hospital staff (PSSRU Unit Costs 2024, Table 8.2.1),
    #   47,336 + 16,016: paramedic, mental health practitioner, physician associate, complex-care team;
    # - practice nurse Band 5 (PSSRU 2024, Table 9.3.1), 31,609 + 10,119; community nurse and a skilled
    #   nurse's shared sessions, Band 6 nurse (Table 9.2.1), 39,263 + 12,989.
    spec = {
        "gp": (28, 92_462), "nurse": (30, 41_728), "pharmacist": (16, 62_340), "splw": (6, 40_159),
        "paramedic": (8, 63_352), "fcp": (16, 62_340), "mhp": (8, 63_352), "pa": (20, 63_352),
        "care_coordinator": (10, 33_396), "mdt": (6, 63_352), "community_nurse": (8, 52_252),
        "shared_expertise": (12, 52_252),
    }
    return {k: Role(contacts_per_fte_day=c, cost_per_fte_year=f) for k, (c, f) in spec.items()}


class Workforce(Strict):
    roles: dict[RoleName, Role] = Field(default_factory=_default_roles, description="Role properties.")
    practice_fte_per_1000: dict[RoleName, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(
        default_factory=lambda: {"gp": 0.45, "nurse": 0.28, "pa": 0.02},
        description="FTE per 1,000 registered patients employed by each practice (NHS Digital Sep 2022: "
        "0.45 qualified GP FTE per 1,000).",
    )
    pcn_fte_per_1000: dict[RoleName, Annotated[float, Field(ge=0.0, le=1000.0)]] = Field(
        default_factory=lambda: {
            "pharmacist": 0.143, "splw": 0.071, "paramedic": 0.036, "fcp": 0.071, "mhp": 0.083,
            "pa": 0.036, "care_coordinator": 0.036, "community_nurse": 0.095,
        },
        description="PCN-funded FTE by role per 1,000 patients registered with the PCN, so a PCN of any size "
        "gets proportionate network staff (start: about 24 FTE for 42,000 patients, ARRS roles plus the "
        "trust's community nursing).",
    )
    pcn_fte: dict[RoleName, FTE] = Field(
        default_factory=dict,
        description="Absolute PCN-funded FTE per PCN for the roles named here; those roles ignore "
        "pcn_fte_per_1000.",
    )
    pcn_role_level: dict[RoleName, Literal["practice", "network"]] = Field(
        default_factory=lambda: {"community_nurse": "network"},
        description="Where each PCN-funded role sits: 'practice' (split by list size) or 'network' (a pool "
        "serving every member practice). Roles not named sit at practice level.",
    )
    network_handoff_cost: Probability = Field(
        0.1, description="Share of a network pool's capacity lost to hand-offs between practices."
    )

    def network_fte(self, patients: int) -> dict[str, float]:
        """PCN-funded FTE by role for a PCN of `patients` registered patients: `pcn_fte` where it names the
        role, `pcn_fte_per_1000` x patients / 1,000 otherwise."""
        scaled = {role: rate * patients / 1000.0 for role, rate in self.pcn_fte_per_1000.items()}
        return {**scaled, **self.pcn_fte}

    @field_validator("roles")
    @classmethod
    def _all_roles(cls, v: dict) -> dict:
        missing = [r for r in ROLES if r not in v]
        if missing:
            defaults = _default_roles()
            v = {**{r: defaults[r] for r in missing}, **v}
        return v


# --------------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------------


def _england_pyramid() -> dict[int, tuple[float, float]]:
    # England mid-2022 population by 5-year band (ONS), per 1,000 persons, split male/female.
    return {
        0: (28.1, 26.8), 5: (30.8, 29.3), 10: (31.4, 29.8), 15: (29.3, 27.9), 20: (31.0, 30.0),
        25: (33.4, 33.6), 30: (34.4, 34.9), 35: (32.8, 33.5), 40: (31.2, 31.8), 45: (30.6, 31.4),
        50: (33.4, 34.4), 55: (33.0, 34.0), 60: (28.7, 30.0), 65: (24.0, 25.8), 70: (22.9, 25.2),
        75: (17.3, 20.4), 80: (10.7, 14.0), 85: (5.9, 8.8), 90: (2.8, 5.8),
    }


class Population(Strict):
    age_sex_pyramid: AgeSexTable = Field(
        default_factory=_england_pyramid,
        description="Default list profile {lower age of 5-year band: [males, females]} (any scale); the last "
        "band runs to age 100. England mid-2022 (ONS).",
    )
    max_age: int = Field(100, ge=60, le=110, description="Oldest age drawn for the top band, years.")
    segment_prevalence: dict[ComplexSegmentName, AgeBanded] = Field(
        default_factory=lambda: {
            "ltc": {0: 0.05, 18: 0.15, 45: 0.30, 65: 0.45, 75: 0.45},
            "frail": {0: 0.0, 65: 0.05, 75: 0.22, 85: 0.42},
            "multimorbid": {0: 0.005, 18: 0.035, 45: 0.08, 65: 0.12},
            "struggling": {0: 0.0, 16: 0.035, 65: 0.012},
            "young_distress": {0: 0.0, 11: 0.05, 26: 0.0},
        },
        description="Probability of each needs segment by age (start); 'well' is the remainder.",
    )
    segment_deprivation_multiplier: dict[ComplexSegmentName, ByQuintile] = Field(
        default_factory=lambda: {
            "ltc": [1.2, 1.1, 1.0, 0.95, 0.9],
            "frail": [1.3, 1.15, 1.0, 0.9, 0.8],
            "multimorbid": [1.6, 1.3, 1.0, 0.85, 0.7],
            "struggling": [2.5, 1.6, 1.0, 0.7, 0.5],
            "young_distress": [1.4, 1.2, 1.0, 0.9, 0.8],
        },
        description="Multiplier on segment prevalence by deprivation quintile (1 = most deprived first).",
    )
    initial_complexity: dict[SegmentName, ByLevel] = Field(
        default_factory=lambda: {
            "well": [0.85, 0.15, 0.0, 0.0],
            "ltc": [0.40, 0.50, 0.10, 0.0],
            "frail": [0.0, 0.20, 0.50, 0.30],
            "multimorbid": [0.0, 0.20, 0.50, 0.30],
            "struggling": [0.0, 0.30, 0.50, 0.20],
            "young_distress": [0.10, 0.40, 0.40, 0.10],
        },
        description="Distribution of complexity levels 0-3 at the start, by segment (start).",
    )

    @field_validator("age_sex_pyramid")
    @classmethod
    def _pyramid(cls, v: dict) -> dict:
        return check_age_sex_table(v)

    @field_validator("segment_prevalence")
    @classmethod
    def _prevalence(cls, v: dict) -> dict:
        return {k: check_age_banded(b, 0.0, 1.0, k) for k, b in v.items()}

    @field_validator("initial_complexity")
    @classmethod
    def _complexity(cls, v: dict) -> dict:
        for k, p in v.items():
            if abs(sum(p) - 1) > 1e-6:
                raise ValueError(f"{k}: the 4 probabilities (levels 0-3) must sum to 1 (got {sum(p):.4f})")
        return v
