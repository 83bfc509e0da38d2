"""The lever schema (docs/levers.md): what the network does together, each lever off by default.

Every lever has `enabled`, `start_day` (from the first reported day) and `ramp_days`; delivery capacity
(`Delivery`: project-management FTE) shortens the ramp and raises the share of the effect realised.
Checks that need the rest of the scenario (a practice's name, a need's match entry) are in `Scenario`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .schema_types import Money, NeedName, NonNegative, Probability, RoleName, Strict

ARRS_ROLES = ("pharmacist", "splw", "paramedic", "fcp", "mhp", "pa", "care_coordinator")


class LeverTiming(Strict):
    enabled: bool = Field(False, description="Switch the lever on.")
    start_day: int = Field(0, ge=0, le=36500, description="First day of the effect, counted from the first "
                           "reported day (0 = the day reporting starts).")
    ramp_days: int | None = Field(None, ge=0, le=3650, description="Days from start to full effect (default: "
                                  "levers.delivery.ramp_days); shortened by delivery capacity.")


class PooledRoles(LeverTiming):
    roles: list[RoleName] = Field(default_factory=lambda: list(ARRS_ROLES),
                                  description="PCN-funded roles moved from the practices to the network pool.")
    share: Probability = Field(1.0, description="Share of those roles' practice-level FTE moved to the pool.")


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
    extra_care_coordinator_fte: NonNegative = Field(
        1.0, le=500, description="Care coordinator FTE per PCN added to the network pool to navigate (the PCN's "
        "own care coordinators navigate too) (start).")
    navigations_per_fte_day: float = Field(
        40.0, gt=0, le=500, description="Requests one care coordinator FTE navigates in a working day: a "
        "conversation of about ten minutes, with its notes and booking (start).")


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
    needs: list[NeedName] = Field(default_factory=lambda: ["complex", "mental_health", "social"],
                                  description="Need types the team takes over for enrolled patients (their requests "
                                  "are triaged to the team while it has slots).")
    ae_multiplier: Probability = Field(0.75, description="Care plan: multiplier on the chance that an enrolled "
                                       "patient's need of a type in `needs` takes them to A&E (directly or after a "
                                       "failed request); injuries and other needs are unchanged (start).")
    deescalation_multiplier: float = Field(1.5, ge=1.0, le=10.0, description="Multiplier on enrolled patients' "
                                           "monthly complexity de-escalation.")


class SharedExpertise(LeverTiming):
    skill: NeedName = Field("wound", description="Need type the skill treats (e.g. wound for leg-ulcer care).")
    home_practice: str | None = Field(None, description="Practice of the skilled practitioner (default: the "
                                      "first practice of the first PCN).")
    home_role: RoleName = Field("nurse", description="Role of the practitioner: the home practice loses this much "
                           "of that role's capacity.")
    sessions_per_week: float = Field(4.0, gt=0, le=50, description="Sessions given to the network per week "
                                     "(a session is half a day: 10 sessions = 1 FTE).")
    skilled_resolution: Probability = Field(0.6, description="Chance one skilled contact resolves the need.")
    routing_share: Probability = Field(1.0, description="Share of the PCN's requests for that need triaged to "
                                       "the skilled sessions (the rest follow the usual routing).")


class NetworkOfNetworks(LeverTiming):
    pcns: list[str] | None = Field(None, description="PCNs that pool services (default: every PCN; at least 2).")
    roles: list[RoleName] = Field(default_factory=lambda: list(ARRS_ROLES),
                                  description="Network-pool roles shared across the member PCNs.")
    trust: Probability = Field(0.5, description="Share of each member's pooled capacity in those roles really "
                               "made available to the others (0 = separate PCNs, 1 = one shared pool).")


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
    project_manager_cost_per_fte_year: Money = Field(
        72_273, description="Employment cost of a project manager per FTE-year, GBP (Agenda for Change Band 8a "
        "salary and on-costs, PSSRU Unit Costs 2024, Table 8.2.1, 2023/24 prices).")


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

