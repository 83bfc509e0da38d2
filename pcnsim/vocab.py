"""The fixed vocabulary of the model: the calendar, need types, roles, settings, segments, urgencies,
the per-patient counters.

Indices here are the integer codes the engine uses; names are what users write in YAML and read in
results. Order matters and is part of the on-disk contract, so only append.
"""

# The model's calendar: a year is 52 weeks and a month 4 weeks, so weekly series line up with years and
# demography runs on week boundaries.
DAYS_PER_WEEK = 7
DAYS_PER_MONTH = 28
DAYS_PER_YEAR = 364

NEEDS = (
    "acute_minor",
    "ltc",
    "complex",
    "mental_health",
    "social",
    "msk",
    "wound",
    "urgent_home_visit",
)
N_NEEDS = len(NEEDS)
NEED_LABELS = {
    "acute_minor": "minor acute illness",
    "ltc": "long-term condition",
    "complex": "complex needs",
    "mental_health": "mental health",
    "social": "social need",
    "msk": "muscle or joint problem",
    "wound": "wound / leg ulcer",
    "urgent_home_visit": "urgent home visit",
}
URGENT_HOME_VISIT = NEEDS.index("urgent_home_visit")

# Services with capacity (staffed roles). Contacts with these are primary-care contacts except
# community nursing (a community-trust service), see PRIMARY_CARE_ROLES. "shared_expertise" is the
# sessions a skilled practitioner gives the network (the shared-expertise lever); it has no capacity
# and takes no need unless that lever is on.
ROLES = (
    "gp",
    "nurse",
    "pharmacist",
    "splw",
    "paramedic",
    "fcp",
    "mhp",
    "pa",
    "care_coordinator",
    "mdt",
    "community_nurse",
    "shared_expertise",
)
N_ROLES = len(ROLES)
GP = ROLES.index("gp")
NURSE = ROLES.index("nurse")
MDT = ROLES.index("mdt")
CARE_COORDINATOR = ROLES.index("care_coordinator")
COMMUNITY_NURSE = ROLES.index("community_nurse")
SHARED_EXPERTISE = ROLES.index("shared_expertise")
PRIMARY_CARE_ROLES = tuple(r for r in ROLES if r != "community_nurse")

ROLE_LABELS = {
    "gp": "GP",
    "nurse": "practice nurse",
    "pharmacist": "clinical pharmacist",
    "splw": "social prescribing link worker",
    "paramedic": "paramedic / acute visiting",
    "fcp": "first contact physio",
    "mhp": "mental health practitioner",
    "pa": "physician associate",
    "care_coordinator": "care coordinator",
    "mdt": "complex-care team",
    "community_nurse": "community / district nursing",
    "shared_expertise": "shared-expertise sessions",
}

# Touchpoint settings recorded in ledgers: every role, then the hospital settings.
SETTINGS = (*ROLES, "ae", "admission", "outpatient")
N_SETTINGS = len(SETTINGS)
AE = SETTINGS.index("ae")
ADMISSION = SETTINGS.index("admission")
OUTPATIENT = SETTINGS.index("outpatient")

# Columns of the match matrix: every role plus A&E.
MATCH_COLUMNS = (*ROLES, "ae")

SEGMENTS = (
    "well",
    "ltc",
    "frail",
    "multimorbid",
    "struggling",
    "young_distress",
)
N_SEGMENTS = len(SEGMENTS)
FRAIL = SEGMENTS.index("frail")
COMPLEX_SEGMENTS = ("frail", "multimorbid", "struggling", "young_distress")

URGENCIES = ("routine", "same_day", "urgent")
ROUTINE, SAME_DAY, URGENT = 0, 1, 2

SEXES = ("male", "female")
N_COMPLEXITY = 4
N_DEPRIVATION = 5

# Ledger outcome codes.
OUTCOMES = ("resolved", "revisit", "dna", "no_episode")
RESOLVED, REVISIT, DNA, NO_EPISODE = 0, 1, 2, 3

# Per-patient yearly counters after the touchpoints by setting (`SETTINGS`), in the order of the engine's
# counter columns and of the per-patient table.
COUNTER_NAMES = (
    "dna",  # booked contacts not attended
    "revisits",  # primary-care contacts after the first for the same episode
    "unmet_days",  # episode-days open without a contact
    "requests",  # requests for primary care
    "unserved_requests",  # requests no unit could book on the day asked
    "ae_primary_care_sensitive",  # A&E attendances tied to an open need episode
    "episodes_opened",
    "clustered_contacts",  # primary-care contacts that were at least the 4th within 30 days
    "mdt_enrolled_months",  # months begun on the complex-care team's caseload
    "gp_usual",  # GP contacts with the patient's usual GP (a part of the `gp` contacts)
)

# Weekly counters per practice after the patient counters: events, then overflow by role (requests the
# practice could not book for a role it holds, booked in a network pool instead; and requests no unit
# could book for their role).
WEEKLY_EVENT_NAMES = (
    "episodes_resolved", "episodes_self_resolved", "episodes_closed_by_exit", "onsets_merged", "deaths",
    "leavers", "births", "registrations", "gp_home_visits", "ae_background", "navigated_requests",
    *(f"overflow_to_network_{r}" for r in ROLES), *(f"unplaced_{r}" for r in ROLES),
)
