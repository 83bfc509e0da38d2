"""The domain schema of a scenario (pydantic v2): need types, the match matrix, onset, access, booking,
A&E, complexity, demography, continuity of GP care and costs, and `Scenario`, which holds them with the
place (`pcnsim.schema_place`: calendar, PCNs, practices, workforce, population) and the levers
(`pcnsim.lever_schema`), and checks what spans blocks.

Every field carries a default, a unit and allowed range in its description, and its bounds, so the
schema is the single place where a parameter is defined. Numbers marked *start* (docs/parameters.md) are
starting values to be calibrated, not evidence. Loading files is `pcnsim.scenario`'s job.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from .lever_schema import Levers
from .schema_place import PCN, Population, Simulation, Workforce, default_pcns
from .schema_types import (
    Age,
    AgeBanded,
    Money,
    Multiplier,
    NeedName,
    Probability,
    Rate,
    RoleName,
    SegmentName,
    ServiceName,
    SettingName,
    Strict,
    Weight,
    check_age_banded,
)
from .vocab import COMPLEX_SEGMENTS, NEEDS

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
    routing: dict[RoleName, Weight] = Field(description="Triage weights over roles for this need.")
    outpatient_referral: Probability = Field(0.0, description="Chance an unresolved contact refers to outpatients.")
    refer_to: RoleName | None = Field(None, description="Role an unresolved contact may refer this need on to "
                                 "(e.g. social -> splw); the next ask goes straight to that role.")
    referral_probability: Probability = Field(0.0, description="Chance an unresolved contact with another "
                                              "role makes that referral (when the role is available).")

    @field_validator("routing")
    @classmethod
    def _routing(cls, v: dict) -> dict:
        if sum(v.values()) <= 0:
            raise ValueError("needs at least one role with positive weight")
        return v

    @model_validator(mode="after")
    def _shares(self) -> Need:
        if self.same_day_share + self.urgent_share > 1 + 1e-9:
            raise ValueError("same_day_share + urgent_share must be <= 1")
        return self


def _default_needs() -> dict[NeedName, Need]:
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


def _default_match() -> dict[NeedName, dict[ServiceName, float]]:
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
    base: dict[NeedName, Rate] = Field(
        default_factory=lambda: {"acute_minor": 1.5, "msk": 0.15, "mental_health": 0.1, "social": 0.05,
                                 "wound": 0.01},
        description="Episodes per person-year for everyone (a generally well adult aged 18-64) (start).",
    )
    segment_extra: dict[SegmentName, dict[NeedName, Rate]] = Field(
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
    age_multiplier: dict[NeedName, AgeBanded] = Field(
        default_factory=lambda: {
            "acute_minor": {0: 3.0, 1: 3.0, 5: 0.8, 16: 0.7, 31: 1.0, 65: 1.5, 80: 2.5},
            "msk": {0: 0.2, 16: 1.0, 45: 1.5, 65: 1.8},
            "wound": {0: 0.5, 65: 2.0, 80: 4.0},
            "mental_health": {0: 0.2, 11: 1.2, 25: 1.0, 65: 0.7},
        },
        description="Multiplier on onset by age for a need; needs not named have 1 at every age (start).",
    )
    female_multiplier: dict[NeedName, Multiplier] = Field(
        default_factory=lambda: {"mental_health": 1.3, "msk": 1.1},
        description="Multiplier on onset for women by need (start).",
    )
    complexity_multiplier: list[Multiplier] = Field(
        default_factory=lambda: [1.0, 1.5, 2.5, 4.0], min_length=4, max_length=4,
        description="Multiplier on every onset rate by complexity level 0-3 (start).",
    )
    deprivation_multiplier: list[Multiplier] = Field(
        default_factory=lambda: [1.25, 1.12, 1.0, 0.93, 0.86], min_length=5, max_length=5,
        description="Multiplier on every onset rate by deprivation quintile, most deprived first (start).",
    )

    @field_validator("age_multiplier")
    @classmethod
    def _age(cls, v: dict) -> dict:
        return {k: check_age_banded(b, 0.0, 1000.0, k) for k, b in v.items()}


class Access(Strict):
    propensity: dict[Age, tuple[Probability, Probability]] = Field(
        default_factory=lambda: {
            0: (0.85, 0.85), 5: (0.65, 0.65), 7: (0.42, 0.48), 16: (0.38, 0.58), 25: (0.42, 0.60),
            29: (0.50, 0.64), 45: (0.56, 0.66), 65: (0.70, 0.74), 75: (0.80, 0.80),
        },
        description="Probability of asking primary care for a need, {lower age: [male, female]}; lowest "
        "for ages ~7-28 and young men (HSE 2019) (start).",
    )
    deprivation_multiplier: list[Multiplier] = Field(
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


def _default_same_day_reserve() -> dict[str, float]:
    # Start values (docs/model.md, Slots): roles whose work is referred, planned or proactive and so booked
    # ahead keep a small reserve, about the same-day share of the needs routed to them (social 0.1; a district
    # nursing caseload of planned visits; the complex-care team's caseload). Every other role (GP, nurse,
    # pharmacist, paramedic, FCP, MHP, PA) takes `same_day_share`.
    return {"splw": 0.1, "care_coordinator": 0.1, "mdt": 0.2, "community_nurse": 0.2, "shared_expertise": 0.1}


class Booking(Strict):
    same_day_share: Probability = Field(
        0.45, description="Share of each day's slots held back for same-day and urgent requests by every role "
        "not named in same_day_reserve (NHS England appointments data: ~44% of appointments are same-day)."
    )
    same_day_reserve: dict[RoleName, Probability] = Field(
        default_factory=_default_same_day_reserve,
        description="Share of each day's slots held back for same-day and urgent requests, by role, where it "
        "differs from same_day_share: roles that book mostly ahead (start). A file's entries merge onto these; "
        "null returns a role to same_day_share.",
    )
    pool_same_day_reserve: dict[RoleName, Probability] = Field(
        default_factory=dict,
        description="Same-day reserve by role in the network and shared pools, where it differs from "
        "same_day_reserve (then same_day_share).",
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
    deprivation_multiplier: list[Multiplier] = Field(
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
        return check_age_banded(v, 0.0, 5000.0)

    @field_validator("age_multiplier")
    @classmethod
    def _am(cls, v: dict) -> dict:
        return check_age_banded(v, 0.0, 10.0)

    @field_validator("admission_by_age")
    @classmethod
    def _adm(cls, v: dict) -> dict:
        return check_age_banded(v, 0.0, 1.0)


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
    complexity_mortality_multiplier: list[Multiplier] = Field(
        default_factory=lambda: [1.0, 1.0, 1.2, 1.6], min_length=4, max_length=4,
        description="Multiplier on death probability by complexity level.",
    )
    turnover_per_year: Probability = Field(
        0.08, description="Share of a list leaving (and replaced by new registrations) per year (start)."
    )
    newborn_share: Probability = Field(
        0.12, description="Share of new registrations that are births; the rest are drawn from the list profile."
    )


class Continuity(Strict):
    """Continuity of GP care (docs/model.md, Continuity of care): each patient has a usual GP at their practice."""

    gp_fte_per_headcount: float = Field(
        0.74, gt=0.0, le=1.0,
        description="How much of a full-time week a GP works on average, FTE per GP (headcount); taken as the "
        "chance a patient's usual GP works on a given day (NHS Digital General Practice Workforce, 31 March 2024: "
        "27,574 FTE fully qualified GPs, 37,399 by headcount).",
    )
    usual_gp_preference: Probability = Field(
        0.75,
        description="On a day their usual GP works, the chance a patient's GP contact at their practice is with "
        "them; otherwise any GP working that day alike (start: with 0.74 FTE per GP this gives a usual-GP chance "
        "of about 0.70 with one or two GPs and 0.58 with eight or more, close to the mean continuity of 0.70 in "
        "small and 0.59 in large practices in Barker et al. 2017).",
    )
    resolution_uplift: float = Field(
        0.1, ge=0.0, le=1.0,
        description="Relative rise in the chance a GP contact with the usual GP resolves the need: the match x "
        "(1 + this), at most 1 (start: a personal doctor's knowledge of the patient makes consultations more "
        "effective, Pereira Gray et al. 2003; no measured size).",
    )
    ae_rate_ratio: float = Field(
        0.96, ge=0.25, le=1.5,
        description="Rate ratio of A&E attendances for a need episode (direct, or after no slot) per 0.2 higher "
        "continuity index (Nyweide & Bynum 2017: 2% fewer emergency department episodes per 0.1 higher UPC, "
        "0.98 squared; Kohnke & Zielinski 2017 found about half the visits at the highest continuity against "
        "the lowest).",
    )
    admission_rate_ratio: float = Field(
        0.938, ge=0.25, le=1.5,
        description="Rate ratio of emergency admissions after A&E for a need episode per 0.2 higher continuity "
        "index (Barker et al. 2017: 6.22% fewer admissions for ambulatory care sensitive conditions per 0.2 "
        "higher UPC).",
    )
    reference_index: Probability = Field(
        0.61,
        description="Continuity index at which A&E and admission are as the rest of the scenario sets them; "
        "a patient above it is less likely to go or be admitted, one below more (Barker et al. 2017's mean UPC, "
        "0.61).",
    )


def _default_unit_costs() -> dict[str, float]:
    # GBP per touchpoint, 2023/24 prices. A GP's 10-minute surgery consultation with direct care staff and
    # qualifications: PSSRU Unit Costs of Health and Social Care 2024, Table 9.4.2. Other practice and network
    # roles: the cost per working hour (PSSRU 2024: practice nurse with qualifications 53, Table 9.3.1;
    # Band 7 nurse 75 and Band 6 nurse 64 with qualifications, Table 9.2.1; community staff Band 7 68,
    # Band 5 44, Band 4 39, Table 8.2.1) over the contacts one FTE gives in a 7.5-hour day
    # (workforce.roles). Community nurse visit: National Cost Collection 2023/24, N02AF, 58.11. A&E
    # attendance and consultant-led outpatient attendance: PSSRU 2024, Table 6.1.1 (273, 198). Emergency
    # admission: National Cost Collection 2023/24, non-elective long and short stays weighted by activity.
    per_hour_role = {"nurse": (53, 30), "pharmacist": (68, 16), "splw": (44, 6), "paramedic": (68, 8), "fcp": (68, 16),
                     "mhp": (68, 8), "pa": (68, 20), "care_coordinator": (39, 10), "mdt": (75, 6),
                     "shared_expertise": (64, 12)}
    costs = {role: round(hourly * 7.5 / contacts, 1) for role, (hourly, contacts) in per_hour_role.items()}
    return {"gp": 45.0, **costs, "community_nurse": 58.11, "ae": 273.0, "admission": 2595.0, "outpatient": 198.0}


class Costs(Strict):
    per_contact: dict[SettingName, Money] = Field(
        default_factory=_default_unit_costs,
        description="Unit cost per touchpoint by setting, GBP at the price year (PSSRU Unit Costs of Health and "
        "Social Care 2024 and the National Cost Collection 2023/24; docs/model.md gives each source).",
    )
    price_year: str = Field("2023/24", max_length=20, description="The financial year whose prices the unit and "
                            "staff costs are in (for reports; nothing is inflated).")


# --------------------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------------------


class Scenario(Strict):
    """A complete pcnsim scenario. Every block has defaults; a YAML file overrides what it names."""

    name: str = Field("baseline", description="Short scenario name used in results.")
    description: str = Field("", description="What question this scenario answers.")
    simulation: Simulation = Field(default_factory=Simulation)
    pcns: list[PCN] = Field(default_factory=default_pcns, min_length=1, description="The PCNs of the place.")
    workforce: Workforce = Field(default_factory=Workforce)
    population: Population = Field(default_factory=Population)
    needs: dict[NeedName, Need] = Field(default_factory=_default_needs, description="Need types and their care.")
    match: dict[NeedName, dict[ServiceName, Probability]] = Field(
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
    continuity: Continuity = Field(default_factory=Continuity)
    costs: Costs = Field(default_factory=Costs)
    levers: Levers = Field(default_factory=Levers)

    @field_validator("needs")
    @classmethod
    def _all_needs(cls, v: dict) -> dict:
        defaults = _default_needs()
        return {n: v.get(n, defaults[n]) for n in NEEDS}

    @field_validator("match")
    @classmethod
    def _match(cls, v: dict) -> dict:
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
        self._check_age_tables()
        self._check_levers(names)
        return self

    def _check_age_tables(self) -> None:
        """Every list profile has someone to draw at ages up to population.max_age (older bands are cut)."""
        top = self.population.max_age
        tables = [("population.age_sex_pyramid", self.population.age_sex_pyramid)]
        tables += [(f"pcns[{c}].practices[{i}].age_sex_table", p.age_sex_table) for c, pcn in enumerate(self.pcns)
                   for i, p in enumerate(pcn.practices) if p.age_sex_table is not None]
        for field, table in tables:
            if sum(m + f for age, (m, f) in table.items() if age <= top) <= 0:
                raise ValueError(f"{field} has nobody aged up to population.max_age ({top}); bands above it are "
                                 "not drawn")

    def _pooled_somewhere(self, roles) -> bool:
        """Whether any of `roles` has staff in a PCN's network pool: funded at network level, pooled by
        levers.pooled_roles, or added to the pools by a lever."""
        lv = self.levers
        added = {"paramedic": lv.acute_visiting.enabled, "splw": lv.social_prescribing.enabled,
                 "mdt": lv.complex_care.enabled, "shared_expertise": lv.shared_expertise.enabled}
        for role in roles:
            funded = any(self.pcn_funded_fte(pcn).get(role, 0.0) > 0 for pcn in self.pcns)
            at_network = self.workforce.pcn_role_level.get(role) == "network"
            pooled = lv.pooled_roles.enabled and role in lv.pooled_roles.roles and lv.pooled_roles.share > 0
            if (funded and (at_network or pooled)) or added.get(role, False):
                return True
        return False

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
        if non.enabled and not self._pooled_somewhere(non.roles):
            raise ValueError(f"levers.network_of_networks.roles {list(non.roles)}: none of them has staff in a "
                             "network pool, so sharing the pools would change nothing; put them at network level "
                             "(workforce.pcn_role_level), pool them (levers.pooled_roles) or name pooled roles")
        cc = self.levers.complex_care
        if cc.enabled:
            untaken = [n for n in cc.needs if "mdt" not in self.match[n]]
            if untaken:
                raise ValueError(f"levers.complex_care.needs has {untaken}, which have no match entry for mdt")

    @property
    def n_patients(self) -> int:
        return sum(p.list_size for pcn in self.pcns for p in pcn.practices)

    def pcn_funded_fte(self, pcn: PCN) -> dict[str, float]:
        """A PCN's PCN-funded FTE by role: its own `arrs_fte` if given, else the workforce's per-1,000 rates
        (or absolute figures) for its list size."""
        return dict(pcn.arrs_fte) if pcn.arrs_fte is not None else self.workforce.network_fte(pcn.list_size)

