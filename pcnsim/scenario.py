"""Scenario schema (pydantic v2), YAML loading with `extends:` inheritance, and JSON Schema export.

A scenario is everything a run needs apart from the seed: the PCNs and practices, the workforce, the
population, need types, the match matrix, access, booking, A&E, complexity, demography and costs.
Every field carries a default, a unit and allowed range in its description, and its bounds, so the
schema is the single place where a parameter is defined. Numbers marked *start* (docs/parameters.md) are
starting values to be calibrated, not evidence.

User mistakes raise `ScenarioError`, whose message is one line naming the file, the field path and
what is allowed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .vocab import COMPLEX_SEGMENTS, MATCH_COLUMNS, NEEDS, ROLES, SEGMENTS

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
AgeBanded = dict[int, float]
"""Piecewise-constant function of age: {lower age bound: value}; the first key must be 0."""


class ScenarioError(ValueError):
    """A user mistake in a scenario: carries the file, the field path and what is allowed."""

    def __init__(self, file: str | Path | None, field: str, message: str):
        self.file = str(file) if file is not None else "<scenario>"
        self.field = field
        self.message = message
        where = f"{self.file}: {field}" if field else self.file
        super().__init__(f"{where}: {message}")


class Strict(BaseModel):
    """Base for every schema block: unknown keys are rejected, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _check_age_banded(value: AgeBanded, lo: float = 0.0, hi: float | None = None) -> AgeBanded:
    if not value:
        raise ValueError("needs at least one band, e.g. {0: 1.0}")
    keys = sorted(value)
    if keys[0] != 0:
        raise ValueError("the first age band must start at 0")
    if keys[-1] > 120 or keys[0] < 0:
        raise ValueError("age band bounds must be between 0 and 120")
    for k in keys:
        v = value[k]
        if v < lo or (hi is not None and v > hi):
            rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
            raise ValueError(f"value {v} for ages {k}+ is outside the allowed range {rng}")
    return {k: float(value[k]) for k in keys}


def _check_keys(value: dict, allowed: tuple[str, ...], what: str) -> dict:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {', '.join(allowed)}")
    return value


# --------------------------------------------------------------------------------------------------
# Simulation and structure
# --------------------------------------------------------------------------------------------------


class Simulation(Strict):
    seed: int = Field(20261123, ge=0, description="Root seed of the run (replicate seeds are spawned from it).")
    years: int = Field(1, ge=1, le=50, description="Reported horizon in model years (a model year is 52 weeks).")
    burn_in_years: int = Field(1, ge=0, le=20, description="Years simulated before reporting starts (not reported).")
    start_weekday: int = Field(0, ge=0, le=6, description="Weekday of day 0 (0 = Monday ... 6 = Sunday).")
    bank_holidays: list[Annotated[int, Field(ge=0, le=363)]] = Field(
        default_factory=lambda: [0, 95, 98, 123, 151, 235, 358, 359],
        description="Days of the 364-day model year on which practices and PCN services are closed.",
    )


class Practice(Strict):
    name: str = Field(description="Practice name, used in results.")
    list_size: int = Field(ge=1, le=200_000, description="Registered patients (persons).")
    deprivation_mix: list[Probability] = Field(
        default_factory=lambda: [0.2, 0.2, 0.2, 0.2, 0.2],
        min_length=5,
        max_length=5,
        description="Share of the list in each deprivation quintile, 1 = most deprived first; sums to 1.",
    )
    fte: dict[str, NonNegative] = Field(
        default_factory=dict,
        description="FTE by role employed by this practice; overrides workforce.practice_fte_per_1000.",
    )
    age_sex_table: dict[int, tuple[NonNegative, NonNegative]] | None = Field(
        None,
        description="Optional list profile {lower age of band: [males, females]}; default: population pyramid.",
    )

    @field_validator("deprivation_mix")
    @classmethod
    def _sums_to_one(cls, v: list[float]) -> list[float]:
        if abs(sum(v) - 1.0) > 1e-6:
            raise ValueError(f"must sum to 1 (got {sum(v):.4f})")
        return v

    @field_validator("fte")
    @classmethod
    def _known_roles(cls, v: dict) -> dict:
        return _check_keys(v, ROLES, "role")


class PCN(Strict):
    name: str = Field(description="PCN name, used in results.")
    practices: list[Practice] = Field(min_length=1, description="Member practices.")
    arrs_fte: dict[str, NonNegative] | None = Field(
        None, description="ARRS / PCN-funded FTE by role for this PCN; default: workforce.pcn_fte."
    )

    @field_validator("arrs_fte")
    @classmethod
    def _known_roles(cls, v: dict | None) -> dict | None:
        return None if v is None else _check_keys(v, ROLES, "role")


def _default_pcns() -> list[PCN]:
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
    cost_per_fte_year: float = Field(ge=0, description="Employment cost per FTE per year, GBP (start).")


def _default_roles() -> dict[str, Role]:
    # Contacts per FTE-day: docs/model.md, The world (start). Costs: NHS pay bands with on-costs (start,
    # to be sourced precisely in the workforce issue).
    spec = {
        "gp": (28, 140_000), "nurse": (30, 52_000), "pharmacist": (16, 62_000), "splw": (6, 36_000),
        "paramedic": (8, 62_000), "fcp": (16, 62_000), "mhp": (8, 58_000), "pa": (20, 58_000),
        "care_coordinator": (10, 34_000), "mdt": (6, 70_000), "community_nurse": (8, 52_000),
        "shared_expertise": (12, 52_000),
    }
    return {k: Role(contacts_per_fte_day=c, cost_per_fte_year=f) for k, (c, f) in spec.items()}


class Workforce(Strict):
    roles: dict[str, Role] = Field(default_factory=_default_roles, description="Role properties.")
    practice_fte_per_1000: dict[str, NonNegative] = Field(
        default_factory=lambda: {"gp": 0.45, "nurse": 0.28, "pa": 0.02},
        description="FTE per 1,000 registered patients employed by each practice (NHS Digital Sep 2022: "
        "0.45 qualified GP FTE per 1,000).",
    )
    pcn_fte: dict[str, NonNegative] = Field(
        default_factory=lambda: {
            "pharmacist": 6.0, "splw": 3.0, "paramedic": 1.5, "fcp": 3.0, "mhp": 3.5,
            "pa": 1.5, "care_coordinator": 1.5, "community_nurse": 4.0,
        },
        description="PCN-funded FTE by role per PCN (ARRS ~20 FTE per PCN; community nursing by the trust).",
    )
    pcn_role_level: dict[str, Literal["practice", "network"]] = Field(
        default_factory=lambda: {"community_nurse": "network"},
        description="Where each PCN-funded role sits: 'practice' (split by list size) or 'network' (a pool "
        "serving every member practice). Roles not named sit at practice level.",
    )
    network_handoff_cost: Probability = Field(
        0.1, description="Share of a network pool's capacity lost to hand-offs between practices."
    )

    @field_validator("roles")
    @classmethod
    def _all_roles(cls, v: dict) -> dict:
        _check_keys(v, ROLES, "role")
        missing = [r for r in ROLES if r not in v]
        if missing:
            defaults = _default_roles()
            v = {**{r: defaults[r] for r in missing}, **v}
        return v

    @field_validator("practice_fte_per_1000", "pcn_fte", "pcn_role_level")
    @classmethod
    def _known_roles(cls, v: dict) -> dict:
        return _check_keys(v, ROLES, "role")


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
    age_sex_pyramid: dict[int, tuple[NonNegative, NonNegative]] = Field(
        default_factory=_england_pyramid,
        description="Default list profile {lower age of 5-year band: [males, females]} (any scale); the last "
        "band runs to age 100. England mid-2022 (ONS).",
    )
    max_age: int = Field(100, ge=60, le=110, description="Oldest age drawn for the top band, years.")
    segment_prevalence: dict[str, AgeBanded] = Field(
        default_factory=lambda: {
            "ltc": {0: 0.05, 18: 0.15, 45: 0.30, 65: 0.45, 75: 0.45},
            "frail": {0: 0.0, 65: 0.05, 75: 0.22, 85: 0.42},
            "multimorbid": {0: 0.005, 18: 0.035, 45: 0.08, 65: 0.12},
            "struggling": {0: 0.0, 16: 0.035, 65: 0.012},
            "young_distress": {0: 0.0, 11: 0.05, 26: 0.0},
        },
        description="Probability of each needs segment by age (start); 'well' is the remainder.",
    )
    segment_deprivation_multiplier: dict[str, list[NonNegative]] = Field(
        default_factory=lambda: {
            "ltc": [1.2, 1.1, 1.0, 0.95, 0.9],
            "frail": [1.3, 1.15, 1.0, 0.9, 0.8],
            "multimorbid": [1.6, 1.3, 1.0, 0.85, 0.7],
            "struggling": [2.5, 1.6, 1.0, 0.7, 0.5],
            "young_distress": [1.4, 1.2, 1.0, 0.9, 0.8],
        },
        description="Multiplier on segment prevalence by deprivation quintile (1 = most deprived first).",
    )
    initial_complexity: dict[str, list[Probability]] = Field(
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
        if not v or min(v) != 0:
            raise ValueError("the first age band must start at 0")
        if sum(m + f for m, f in v.values()) <= 0:
            raise ValueError("needs a positive total")
        return dict(sorted(v.items()))

    @field_validator("segment_prevalence")
    @classmethod
    def _prevalence(cls, v: dict) -> dict:
        _check_keys(v, SEGMENTS[1:], "segment")
        return {k: _check_age_banded(b, 0.0, 1.0) for k, b in v.items()}

    @field_validator("segment_deprivation_multiplier")
    @classmethod
    def _depmult(cls, v: dict) -> dict:
        _check_keys(v, SEGMENTS[1:], "segment")
        for k, m in v.items():
            if len(m) != 5:
                raise ValueError(f"{k}: needs 5 values, one per deprivation quintile")
        return v

    @field_validator("initial_complexity")
    @classmethod
    def _complexity(cls, v: dict) -> dict:
        _check_keys(v, SEGMENTS, "segment")
        for k, p in v.items():
            if len(p) != 4 or abs(sum(p) - 1) > 1e-6:
                raise ValueError(f"{k}: needs 4 probabilities (levels 0-3) summing to 1")
        return v


# --------------------------------------------------------------------------------------------------
# Needs, onset, match matrix, routing
# --------------------------------------------------------------------------------------------------


class Need(Strict):
    same_day_share: Probability = Field(description="Share of episodes needing a same-day response (start).")
    urgent_share: Probability = Field(0.0, description="Share of episodes that are urgent (start).")
    self_resolution_weekly: Probability = Field(description="Weekly hazard that the need resolves by itself.")
    revisit_interval_days: float = Field(ge=1, le=365, description="Mean days to the next ask after an "
                                         "unresolved contact (drawn uniformly in [0.5, 1.5] x mean).")
    seek_multiplier: float = Field(1.0, ge=0, le=5, description="Multiplier on access propensity for this need.")
    routing: dict[str, NonNegative] = Field(description="Triage weights over roles for this need.")
    outpatient_referral: Probability = Field(0.0, description="Chance an unresolved contact refers to outpatients.")
    refer_to: str | None = Field(None, description="Role an unresolved contact may refer this need on to "
                                 "(e.g. social -> splw); the next ask goes straight to that role.")
    referral_probability: Probability = Field(0.0, description="Chance an unresolved contact with another "
                                              "role makes that referral (when the role is available).")

    @field_validator("routing")
    @classmethod
    def _routing(cls, v: dict) -> dict:
        _check_keys(v, ROLES, "role")
        if sum(v.values()) <= 0:
            raise ValueError("needs at least one role with positive weight")
        return v

    @field_validator("refer_to")
    @classmethod
    def _refer_role(cls, v: str | None) -> str | None:
        if v is not None and v not in ROLES:
            raise ValueError(f"unknown role {v!r}; allowed: {', '.join(ROLES)}")
        return v

    @model_validator(mode="after")
    def _shares(self) -> Need:
        if self.same_day_share + self.urgent_share > 1 + 1e-9:
            raise ValueError("same_day_share + urgent_share must be <= 1")
        return self


def _default_needs() -> dict[str, Need]:
    return {
        "acute_minor": Need(same_day_share=0.8, self_resolution_weekly=0.30, revisit_interval_days=7,
                            routing={"gp": 0.25, "nurse": 0.40, "pharmacist": 0.15, "pa": 0.10}),
        "ltc": Need(same_day_share=0.1, self_resolution_weekly=0.0, revisit_interval_days=28,
                    seek_multiplier=1.4, outpatient_referral=0.05,
                    routing={"nurse": 0.68, "gp": 0.12, "pharmacist": 0.15, "community_nurse": 0.05}),
        "complex": Need(same_day_share=0.3, self_resolution_weekly=0.005, revisit_interval_days=14,
                        seek_multiplier=1.2, outpatient_referral=0.05,
                        routing={"gp": 0.55, "pharmacist": 0.15, "nurse": 0.15, "pa": 0.15}),
        "mental_health": Need(same_day_share=0.4, self_resolution_weekly=0.03, revisit_interval_days=14,
                              routing={"gp": 0.60, "mhp": 0.40}, refer_to="mhp", referral_probability=0.2),
        "social": Need(same_day_share=0.1, self_resolution_weekly=0.01, revisit_interval_days=21,
                       routing={"gp": 0.80, "splw": 0.20}, refer_to="splw", referral_probability=0.3),
        "msk": Need(same_day_share=0.3, self_resolution_weekly=0.08, revisit_interval_days=21,
                    outpatient_referral=0.08, routing={"gp": 0.45, "fcp": 0.55}, refer_to="fcp",
                    referral_probability=0.2),
        "wound": Need(same_day_share=0.2, self_resolution_weekly=0.02, revisit_interval_days=7,
                      routing={"nurse": 0.80, "community_nurse": 0.15, "gp": 0.05}),
        "urgent_home_visit": Need(same_day_share=0.0, urgent_share=1.0, self_resolution_weekly=0.0,
                                  revisit_interval_days=7, seek_multiplier=1.6,
                                  routing={"gp": 0.70, "paramedic": 0.30}),
    }


def _default_match() -> dict[str, dict[str, float]]:
    # Start values (docs/model.md, Need episodes). Missing entries: the service does not take that need.
    return {
        "acute_minor": {"gp": .80, "nurse": .70, "pharmacist": .70, "pa": .75, "paramedic": .70, "ae": .85},
        "ltc": {"gp": .50, "nurse": .60, "pharmacist": .60, "pa": .45, "mdt": .60, "community_nurse": .50,
                "ae": .30},
        "complex": {"gp": .15, "nurse": .10, "pharmacist": .20, "splw": .10, "mhp": .20, "mdt": .50,
                    "pa": .12, "ae": .10},
        "mental_health": {"gp": .30, "splw": .20, "mhp": .50, "mdt": .50, "pa": .25, "ae": .15},
        "social": {"gp": .05, "nurse": .05, "splw": .45, "mhp": .10, "mdt": .40, "pa": .05, "ae": .02},
        "msk": {"gp": .50, "fcp": .70, "pa": .45, "ae": .40},
        "wound": {"gp": .20, "nurse": .30, "community_nurse": .50, "ae": .10},
        "urgent_home_visit": {"gp": .70, "mdt": .50, "paramedic": .75, "ae": .80},
    }


class Onset(Strict):
    base: dict[str, NonNegative] = Field(
        default_factory=lambda: {"acute_minor": 1.5, "msk": 0.15, "mental_health": 0.1, "social": 0.05,
                                 "wound": 0.01},
        description="Episodes per person-year for everyone (a generally well adult aged 18-64) (start).",
    )
    segment_extra: dict[str, dict[str, NonNegative]] = Field(
        default_factory=lambda: {
            "ltc": {"ltc": 2.0},
            "frail": {"ltc": 1.2, "urgent_home_visit": 0.2, "wound": 0.15},
            "multimorbid": {"complex": 1.6, "ltc": 0.8, "mental_health": 0.2},
            "struggling": {"social": 1.2, "mental_health": 0.2},
            "young_distress": {"mental_health": 0.8, "social": 0.2},
        },
        description="Extra episodes per person-year by segment at complexity 0, added to the base rates; "
        "complexity multiplies them, so a multimorbid person at level 2 has ~4 complex episodes a year (start).",
    )
    age_multiplier: dict[str, AgeBanded] = Field(
        default_factory=lambda: {
            "acute_minor": {0: 3.0, 1: 3.0, 5: 0.8, 16: 0.7, 31: 1.0, 65: 1.5, 80: 2.5},
            "msk": {0: 0.2, 16: 1.0, 45: 1.5, 65: 1.8},
            "wound": {0: 0.5, 65: 2.0, 80: 4.0},
            "mental_health": {0: 0.2, 11: 1.2, 25: 1.0, 65: 0.7},
        },
        description="Multiplier on onset by age for a need; needs not named have 1 at every age (start).",
    )
    female_multiplier: dict[str, NonNegative] = Field(
        default_factory=lambda: {"mental_health": 1.3, "msk": 1.1},
        description="Multiplier on onset for women by need (start).",
    )
    complexity_multiplier: list[NonNegative] = Field(
        default_factory=lambda: [1.0, 1.5, 2.5, 4.0], min_length=4, max_length=4,
        description="Multiplier on every onset rate by complexity level 0-3 (start).",
    )
    deprivation_multiplier: list[NonNegative] = Field(
        default_factory=lambda: [1.25, 1.12, 1.0, 0.93, 0.86], min_length=5, max_length=5,
        description="Multiplier on every onset rate by deprivation quintile, most deprived first (start).",
    )

    @field_validator("base", "female_multiplier")
    @classmethod
    def _needs(cls, v: dict) -> dict:
        return _check_keys(v, NEEDS, "need")

    @field_validator("segment_extra")
    @classmethod
    def _segments(cls, v: dict) -> dict:
        _check_keys(v, SEGMENTS, "segment")
        for rates in v.values():
            _check_keys(rates, NEEDS, "need")
        return v

    @field_validator("age_multiplier")
    @classmethod
    def _age(cls, v: dict) -> dict:
        _check_keys(v, NEEDS, "need")
        return {k: _check_age_banded(b, 0.0) for k, b in v.items()}


class Access(Strict):
    propensity: dict[int, tuple[Probability, Probability]] = Field(
        default_factory=lambda: {
            0: (0.85, 0.85), 5: (0.65, 0.65), 7: (0.42, 0.48), 16: (0.38, 0.58), 25: (0.42, 0.60),
            29: (0.50, 0.64), 45: (0.56, 0.66), 65: (0.70, 0.74), 75: (0.80, 0.80),
        },
        description="Probability of asking primary care for a need, {lower age: [male, female]}; lowest "
        "for ages ~7-28 and young men (HSE 2019) (start).",
    )
    deprivation_multiplier: list[NonNegative] = Field(
        default_factory=lambda: [0.95, 0.97, 1.0, 1.0, 1.0], min_length=5, max_length=5,
        description="Multiplier on access propensity by deprivation quintile, most deprived first (start).",
    )
    follow_up_multiplier: float = Field(
        1.1, ge=0, le=5, description="Multiplier on propensity when asking again about an episode already seen."
    )

    @field_validator("propensity")
    @classmethod
    def _bands(cls, v: dict) -> dict:
        if not v or min(v) != 0:
            raise ValueError("the first age band must start at 0")
        return dict(sorted(v.items()))


class Booking(Strict):
    same_day_share: Probability = Field(
        0.45, description="Share of each day's slots held for same-day and urgent requests (NHS England ~44%)."
    )
    horizon_days: int = Field(28, ge=1, le=90, description="Furthest ahead a routine request may book, days.")
    dna_same_day: Probability = Field(0.019, description="Did-not-attend probability for a same-day booking.")
    dna_after_week: Probability = Field(0.085, description="DNA probability for bookings a week or more ahead; "
                                        "linear in lead time in between.")
    home_visit_slots: int = Field(3, ge=1, le=10, description="GP slots one urgent home visit uses.")


class AE(Strict):
    background_per_1000: AgeBanded = Field(
        default_factory=lambda: {0: 260.0, 5: 150.0, 15: 330.0, 35: 190.0, 65: 230.0, 80: 430.0},
        description="A&E attendances per 1,000 per year not related to a primary-care need (injury etc.), by age.",
    )
    deprivation_multiplier: list[NonNegative] = Field(
        default_factory=lambda: [1.5, 1.25, 1.0, 0.85, 0.75], min_length=5, max_length=5,
        description="Multiplier on every A&E propensity by deprivation quintile, most deprived first.",
    )
    unserved_daily: list[Probability] = Field(
        default_factory=lambda: [0.01, 0.08, 0.35], min_length=3, max_length=3,
        description="Daily probability of going to A&E while a request is unserved: routine, same-day, urgent.",
    )
    wait_slope: float = Field(0.1, ge=0, le=5, description="Relative rise of that probability per day waited.")
    age_multiplier: AgeBanded = Field(
        default_factory=lambda: {0: 1.3, 5: 1.0, 15: 1.2, 35: 1.0, 65: 1.1, 80: 1.4},
        description="Multiplier on the unserved and direct A&E probabilities by age.",
    )
    direct: list[Probability] = Field(
        default_factory=lambda: [0.0, 0.04, 0.4], min_length=3, max_length=3,
        description="Probability that someone who does not ask primary care goes to A&E instead, by urgency.",
    )
    admission_by_age: AgeBanded = Field(
        default_factory=lambda: {0: 0.10, 65: 0.22, 80: 0.40},
        description="Probability an A&E attendance is admitted at complexity 0, by age.",
    )
    admission_complexity_add: list[Probability] = Field(
        default_factory=lambda: [0.0, 0.05, 0.15, 0.40], min_length=4, max_length=4,
        description="Added to the admission probability by complexity level 0-3.",
    )
    admission_resolves: Probability = Field(0.8, description="Probability an emergency admission resolves the need.")

    @field_validator("background_per_1000")
    @classmethod
    def _bg(cls, v: dict) -> dict:
        return _check_age_banded(v, 0.0, 5000.0)

    @field_validator("age_multiplier")
    @classmethod
    def _am(cls, v: dict) -> dict:
        return _check_age_banded(v, 0.0, 10.0)

    @field_validator("admission_by_age")
    @classmethod
    def _adm(cls, v: dict) -> dict:
        return _check_age_banded(v, 0.0, 1.0)


class Complexity(Strict):
    escalate_monthly: list[Probability] = Field(
        default_factory=lambda: [0.004, 0.006, 0.006, 0.0], min_length=4, max_length=4,
        description="Base probability per 4-week month of moving up one level, from levels 0-3 (start).",
    )
    deescalate_monthly: list[Probability] = Field(
        default_factory=lambda: [0.0, 0.03, 0.02, 0.015], min_length=4, max_length=4,
        description="Base probability per 4-week month of moving down one level, from levels 0-3 (start).",
    )
    unmet_effect: float = Field(
        1.0, ge=0, le=20, description="Escalation multiplier rises by this per 28 unmet episode-days in the month."
    )
    fit_effect: float = Field(
        0.5, ge=0, le=20, description="De-escalation multiplier rises by this per need resolved by a well-fitting "
        "service in the month.",
    )
    fit_threshold: Probability = Field(0.4, description="A service fits a need when its match is at least this.")
    complex_segment_escalation: float = Field(
        2.0, ge=0, le=20, description=f"Escalation multiplier for the complex segments {list(COMPLEX_SEGMENTS)}."
    )
    old_age_escalation: float = Field(1.5, ge=0, le=20, description="Escalation multiplier from age 80.")


class Demography(Strict):
    gompertz_a: float = Field(-10.4, ge=-20, le=0, description="Annual death probability = exp(a + b x age).")
    gompertz_b: float = Field(0.094, ge=0, le=0.3, description="Gompertz slope per year of age.")
    infant_mortality: Probability = Field(0.004, description="Death probability in the first year of life.")
    frail_mortality_multiplier: float = Field(2.5, ge=0, le=20, description="Multiplier for the frail segment.")
    complexity_mortality_multiplier: list[NonNegative] = Field(
        default_factory=lambda: [1.0, 1.0, 1.2, 1.6], min_length=4, max_length=4,
        description="Multiplier on death probability by complexity level.",
    )
    turnover_per_year: Probability = Field(
        0.08, description="Share of a list leaving (and replaced by new registrations) per year (start)."
    )
    newborn_share: Probability = Field(
        0.12, description="Share of new registrations that are births; the rest are drawn from the list profile."
    )


class Costs(Strict):
    per_contact: dict[str, NonNegative] = Field(
        default_factory=lambda: {
            "gp": 42.0, "nurse": 15.0, "pharmacist": 20.0, "splw": 25.0, "paramedic": 60.0, "fcp": 30.0,
            "mhp": 40.0, "pa": 30.0, "care_coordinator": 15.0, "mdt": 80.0, "community_nurse": 45.0,
            "shared_expertise": 25.0, "ae": 250.0, "admission": 3000.0, "outpatient": 160.0,
        },
        description="Unit cost per touchpoint by setting, GBP (start: PSSRU Unit Costs / National Cost "
        "Collection, to be sourced precisely).",
    )

    @field_validator("per_contact")
    @classmethod
    def _settings(cls, v: dict) -> dict:
        from .vocab import SETTINGS

        return _check_keys(v, SETTINGS, "setting")


# --------------------------------------------------------------------------------------------------
# Levers (docs/levers.md): each off by default, with a start day and a ramp
# --------------------------------------------------------------------------------------------------

ARRS_ROLES = ("pharmacist", "splw", "paramedic", "fcp", "mhp", "pa", "care_coordinator")


class LeverTiming(Strict):
    enabled: bool = Field(False, description="Switch the lever on.")
    start_day: int = Field(0, ge=0, le=36500, description="First day of the effect, counted from the first "
                           "reported day (0 = the day reporting starts).")
    ramp_days: int | None = Field(None, ge=0, le=3650, description="Days from start to full effect (default: "
                                  "levers.delivery.ramp_days); shortened by delivery capacity.")


class PooledRoles(LeverTiming):
    roles: list[str] = Field(default_factory=lambda: list(ARRS_ROLES),
                             description="PCN-funded roles moved from the practices to the network pool.")
    share: Probability = Field(1.0, description="Share of those roles' practice-level FTE moved to the pool.")

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        _check_keys(dict.fromkeys(v), ROLES, "role")
        return v


class AcuteVisiting(LeverTiming):
    paramedic_fte: NonNegative = Field(2.0, le=500, description="Paramedic FTE of the network's acute visiting "
                                       "service (added to the network pool).")
    share_of_home_visits: Probability = Field(1.0, description="Share of urgent home visits routed to it.")


class SocialPrescribing(LeverTiming):
    extra_splw_fte: NonNegative = Field(2.0, le=500, description="Social prescribing link worker FTE added to "
                                        "the network pool.")
    referral_probability: Probability = Field(0.6, description="Chance an unresolved social need is referred to "
                                              "a link worker (replaces needs.social.referral_probability).")
    splw_resolution: Probability = Field(0.55, description="Chance a link-worker contact resolves a social need.")


class CareNavigation(LeverTiming):
    strength: Probability = Field(0.5, description="How far triage moves from the usual routing towards the "
                                  "roles that best fit each need (weights proportional to match squared).")


class Outreach(LeverTiming):
    age_from: int = Field(7, ge=0, le=120, description="Youngest age reached (years).")
    age_to: int = Field(28, ge=0, le=120, description="Oldest age reached (years, inclusive).")
    deprivation_quintiles: list[Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5], description="Deprivation quintiles reached (1 = most deprived).")
    access_multiplier: float = Field(1.3, ge=1.0, le=5.0, description="Multiplier on their access propensity.")

    @model_validator(mode="after")
    def _ages(self) -> Outreach:
        if self.age_from > self.age_to:
            raise ValueError(f"age_from ({self.age_from}) must not exceed age_to ({self.age_to})")
        return self


class ComplexCareTeam(LeverTiming):
    fte: NonNegative = Field(3.0, le=200, description="Complex-care team (MDT) FTE per PCN, added to the network "
                             "pool.")
    gifted_gp_fte_per_practice: NonNegative = Field(
        0.0, le=10, description="GP FTE each member practice gives the team as sessions: moved from the "
        "practice's GP capacity to the team (the practice loses it).")
    caseload: int = Field(150, ge=0, le=100_000, description="Patients the team can hold at once, per PCN.")
    min_contacts: int = Field(4, ge=1, le=12, description="Case finding: at least this many primary-care "
                              "contacts within window_days ...")
    window_days: int = Field(90, ge=7, le=364, description="... (days) ...")
    min_complexity: int = Field(2, ge=0, le=3, description="... and complexity at least this (0-3). Eligible "
                                "patients are enrolled monthly, most complex first, while the caseload has room.")
    enrolment_days: int = Field(364, ge=28, le=3640, description="Days a patient stays on the caseload.")
    needs: list[str] = Field(default_factory=lambda: ["complex", "mental_health", "social"],
                             description="Need types the team takes over for enrolled patients (their requests "
                             "are triaged to the team while it has slots).")
    ae_multiplier: Probability = Field(0.75, description="Multiplier on enrolled patients' A&E propensity "
                                       "(background, direct and after a failed request).")
    deescalation_multiplier: float = Field(1.5, ge=1.0, le=10.0, description="Multiplier on enrolled patients' "
                                           "monthly complexity de-escalation.")

    @field_validator("needs")
    @classmethod
    def _needs(cls, v: list[str]) -> list[str]:
        _check_keys(dict.fromkeys(v), NEEDS, "need")
        return v


class SharedExpertise(LeverTiming):
    skill: str = Field("wound", description="Need type the skill treats (e.g. wound for leg-ulcer care).")
    home_practice: str | None = Field(None, description="Practice of the skilled practitioner (default: the "
                                      "first practice of the first PCN).")
    home_role: str = Field("nurse", description="Role of the practitioner: the home practice loses this much "
                           "of that role's capacity.")
    sessions_per_week: float = Field(4.0, gt=0, le=50, description="Sessions given to the network per week "
                                     "(a session is half a day: 10 sessions = 1 FTE).")
    skilled_resolution: Probability = Field(0.6, description="Chance one skilled contact resolves the need.")
    routing_share: Probability = Field(1.0, description="Share of the PCN's requests for that need triaged to "
                                       "the skilled sessions (the rest follow the usual routing).")

    @field_validator("skill")
    @classmethod
    def _skill(cls, v: str) -> str:
        _check_keys({v: 0}, NEEDS, "need")
        return v

    @field_validator("home_role")
    @classmethod
    def _role(cls, v: str) -> str:
        _check_keys({v: 0}, ROLES, "role")
        return v


class NetworkOfNetworks(LeverTiming):
    pcns: list[str] | None = Field(None, description="PCNs that pool services (default: every PCN; at least 2).")
    roles: list[str] = Field(default_factory=lambda: list(ARRS_ROLES),
                             description="Network-pool roles shared across the member PCNs.")
    trust: Probability = Field(0.5, description="Share of each member's pooled capacity in those roles really "
                               "made available to the others (0 = separate PCNs, 1 = one shared pool).")

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        _check_keys(dict.fromkeys(v), ROLES, "role")
        return v


class Delivery(Strict):
    project_manager_fte: NonNegative = Field(0.0, le=50, description="Project-management FTE per PCN "
                                             "dedicated to delivering change.")
    fte_for_full_delivery: float = Field(1.0, gt=0, le=50, description="Project-management FTE at which "
                                         "delivery is fully resourced.")
    ramp_days: int = Field(180, ge=0, le=3650, description="Days for a lever to reach full effect without "
                                "project management (start).")
    fidelity_without: Probability = Field(0.6, description="Share of a lever's effect realised with no "
                                          "project management (start).")
    ramp_reduction: Probability = Field(0.5, description="How much shorter the ramp is when fully resourced.")


class Levers(Strict):
    delivery: Delivery = Field(default_factory=Delivery)
    pooled_roles: PooledRoles = Field(default_factory=PooledRoles)
    acute_visiting: AcuteVisiting = Field(default_factory=AcuteVisiting)
    social_prescribing: SocialPrescribing = Field(default_factory=SocialPrescribing)
    care_navigation: CareNavigation = Field(default_factory=CareNavigation)
    outreach: Outreach = Field(default_factory=Outreach)
    complex_care: ComplexCareTeam = Field(default_factory=ComplexCareTeam)
    shared_expertise: SharedExpertise = Field(default_factory=SharedExpertise)
    network_of_networks: NetworkOfNetworks = Field(default_factory=NetworkOfNetworks)


# --------------------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------------------


class Scenario(Strict):
    """A complete pcnsim scenario. Every block has defaults; a YAML file overrides what it names."""

    name: str = Field("baseline", description="Short scenario name used in results.")
    description: str = Field("", description="What question this scenario answers.")
    simulation: Simulation = Field(default_factory=Simulation)
    pcns: list[PCN] = Field(default_factory=_default_pcns, min_length=1, description="The PCNs of the place.")
    workforce: Workforce = Field(default_factory=Workforce)
    population: Population = Field(default_factory=Population)
    needs: dict[str, Need] = Field(default_factory=_default_needs, description="Need types and their care.")
    match: dict[str, dict[str, Probability]] = Field(
        default_factory=_default_match,
        description="Probability that one contact with a service resolves a need ({need: {service: p}}); "
        "a missing entry means that service does not take that need.",
    )
    onset: Onset = Field(default_factory=Onset)
    access: Access = Field(default_factory=Access)
    booking: Booking = Field(default_factory=Booking)
    ae: AE = Field(default_factory=AE)
    complexity: Complexity = Field(default_factory=Complexity)
    demography: Demography = Field(default_factory=Demography)
    costs: Costs = Field(default_factory=Costs)
    levers: Levers = Field(default_factory=Levers)

    @field_validator("needs")
    @classmethod
    def _all_needs(cls, v: dict) -> dict:
        _check_keys(v, NEEDS, "need")
        defaults = _default_needs()
        return {n: v.get(n, defaults[n]) for n in NEEDS}

    @field_validator("match")
    @classmethod
    def _match(cls, v: dict) -> dict:
        _check_keys(v, NEEDS, "need")
        for row in v.values():
            _check_keys(row, MATCH_COLUMNS, "service")
        defaults = _default_match()
        return {n: v.get(n, defaults[n]) for n in NEEDS}

    @model_validator(mode="after")
    def _consistency(self) -> Scenario:
        names = [p.name for pcn in self.pcns for p in pcn.practices]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"practice names must be unique; repeated: {dupes}")
        for need, spec in self.needs.items():
            if spec.refer_to is not None and spec.refer_to not in self.match[need]:
                raise ValueError(f"needs.{need}.refer_to is {spec.refer_to!r}, which has no match entry for {need}")
            untaken = [r for r, w in spec.routing.items() if w > 0 and r not in self.match[need]]
            if untaken:
                raise ValueError(f"needs.{need}.routing sends to {untaken}, which have no match entry for {need}")
        self._check_levers(names)
        return self

    def _check_levers(self, practice_names: list[str]) -> None:
        se = self.levers.shared_expertise
        if se.enabled:
            home = se.home_practice or practice_names[0]
            if home not in practice_names:
                raise ValueError(f"levers.shared_expertise.home_practice {home!r} is not a practice of this "
                                 f"scenario; allowed: {', '.join(practice_names)}")
            p = next(p for pcn in self.pcns for p in pcn.practices if p.name == home)
            own = p.fte.get(se.home_role, self.workforce.practice_fte_per_1000.get(se.home_role, 0.0)
                            * p.list_size / 1000.0)
            if se.sessions_per_week / 10.0 > own + 1e-9:
                raise ValueError(f"levers.shared_expertise.sessions_per_week {se.sessions_per_week:g} is more than "
                                 f"{home}'s {own:.2f} {se.home_role} FTE can give (at most {10 * own:.1f})")
        non = self.levers.network_of_networks
        if non.enabled and non.pcns is not None:
            pcn_names = [pcn.name for pcn in self.pcns]
            unknown = sorted(set(non.pcns) - set(pcn_names))
            if unknown:
                raise ValueError(f"levers.network_of_networks.pcns names unknown PCNs {unknown}; allowed: "
                                 f"{', '.join(pcn_names)}")
            if len(set(non.pcns)) < 2:
                raise ValueError("levers.network_of_networks.pcns needs at least 2 PCNs")
        cc = self.levers.complex_care
        if cc.enabled:
            untaken = [n for n in cc.needs if "mdt" not in self.match[n]]
            if untaken:
                raise ValueError(f"levers.complex_care.needs has {untaken}, which have no match entry for mdt")

    @property
    def n_patients(self) -> int:
        return sum(p.list_size for pcn in self.pcns for p in pcn.practices)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------

DEFAULT_SCENARIO = Path(__file__).with_name("data") / "baseline.yaml"


def deep_merge(base: dict, override: dict) -> dict:
    """Merge `override` into a copy of `base`: mappings merge key by key, null deletes an entry,
    anything else (lists, values) replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def scenario_defaults() -> dict:
    """Every default as plain data: the root that each scenario file is merged onto."""
    data = Scenario().model_dump()
    data.pop("pcns")  # a scenario names its own PCNs (or takes the default one whole)
    return data


def read_yaml(path: Path) -> dict:
    """A YAML mapping from a file; any problem becomes a one-line ScenarioError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(path, "", "is a directory, expected a YAML scenario file") from None
    except OSError as exc:
        raise ScenarioError(path, "", f"cannot be read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(path, "", f"broken YAML at {where}{problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ScenarioError(path, "", f"must be a mapping of scenario fields, got {type(data).__name__}")
    return data


def load_raw(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file and resolve its `extends:` chain into one plain mapping."""
    path = Path(path).resolve()
    if path in _seen:
        chain = " -> ".join(p.name for p in (*_seen, path))
        raise ScenarioError(path, "extends", f"circular inheritance: {chain}")
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(path, "extends", "must be the path of another scenario file")
    parent_path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
    if not parent_path.exists():
        raise ScenarioError(path, "extends", f"parent scenario {parent!r} not found (looked in {parent_path})")
    return deep_merge(load_raw(parent_path, (*_seen, path)), data)


def format_location(loc: tuple) -> str:
    """A pydantic error location as a field path: a.b[0].c."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("function-after[", "function-before[") or "[" in str(item):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def from_dict(data: dict, source: str | Path | None = None) -> Scenario:
    """Validate a mapping (merged onto the defaults) into a Scenario; the first error becomes a one-line
    ScenarioError naming `source`, the field path and what is allowed."""
    try:
        return Scenario.model_validate(deep_merge(scenario_defaults(), data))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = format_location(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            parent = err["loc"][:-1]
            msg = f"unknown field; allowed here: {', '.join(_allowed_fields(parent))}"
        elif "input" in err and not isinstance(err["input"], (dict, list)) and err["type"] != "missing":
            msg = f"{msg} (got {err['input']!r})"
        raise ScenarioError(source, field, msg) from None


def validate_file(model: type[BaseModel], path: Path) -> Any:
    """Read a YAML file and validate it against `model` (an experiment schema); the first error becomes a
    one-line ScenarioError naming the file and the field."""
    raw = read_yaml(path)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ScenarioError(path, format_location(err["loc"]), err["msg"].removeprefix("Value error, ")) from None


def _allowed_fields(loc: tuple) -> list[str]:
    model: Any = Scenario
    for item in loc:
        if isinstance(item, int) or model is None:
            continue
        field = model.model_fields.get(item) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        model = _inner_model(field.annotation)
    return list(model.model_fields) if model is not None and hasattr(model, "model_fields") else []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def load(path: str | Path | None = None, overrides: dict | None = None) -> Scenario:
    """Load a scenario file (default: the embedded baseline), resolving `extends:` and applying overrides."""
    source = Path(path) if path is not None else DEFAULT_SCENARIO
    data = load_raw(source)
    if overrides:
        data = deep_merge(data, overrides)
    return from_dict(data, source)


def to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML (every field explicit), loadable by `load`."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def json_schema() -> dict:
    """JSON Schema of a scenario file, for editor autocompletion and documentation."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Path of a parent scenario, relative to this file; this file's fields override it.",
    }
    schema["title"] = "pcnsim scenario"
    return schema
