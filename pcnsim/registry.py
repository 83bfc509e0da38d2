"""Every output metric in one place: its plain-English label, unit, meaning, which direction is better,
and how its values and changes are written for people.

Everything human-facing (CLI tables, reports, figures, the dashboard, CSV headers meant for reading) takes
its words from here and never prints a raw metric key; `pcnsim metrics` lists the registry. The
definitions of how each metric is computed live with the code that computes it (`pcnsim.metrics`,
`pcnsim.experiments.compare`, `pcnsim.targets`); `how` here says it in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .churn import DEFINITIONS as FA_DEFINITIONS
from .metrics import AGE_BAND_LABELS
from .vocab import COUNTER_NAMES, DAYS_PER_YEAR, ROLE_LABELS, SEGMENTS, SETTINGS, WEEKLY_EVENT_NAMES

PER_1000 = "per 1,000 person-years"

# The measures a comparison shows first (tables, figures, reports), and the counters it breaks down by group.
KEY_METRICS = ("ae_per_1000", "revisits_per_1000", "revisit_rate", "gp_per_1000", "primary_care_contacts_per_person",
               "unmet_days_per_person", "admissions_per_1000", "unserved_requests_per_1000", "continuity_upc",
               "cost_per_person", "staff_cost_per_person", "net_cost_per_person",
               "gp_hours_on_home_visits_per_1000")
GROUP_COLUMNS = ("primary_care_contacts", "gp", "ae", "admission", "unmet_days", "revisits")


@dataclass(frozen=True)
class Change:
    """A paired change written for people: the base, the change, its % of the base, the interval of the
    change, and the verdict."""

    base: str
    change: str
    percent: str
    interval: str
    verdict: str


@dataclass(frozen=True)
class Metric:
    """One output metric. `better` is 'lower', 'higher' or '' (neither: a size, or a mix); `share` metrics are
    proportions shown as percentages; `decimals` is the precision shown in tables."""

    key: str
    label: str
    unit: str
    how: str
    better: str = ""
    share: bool = False
    decimals: int = 1
    events: str = ""  # what a rate per 1,000 counts, as a PCN says it ("GP appointments"), for changes a week

    def format(self, value: float) -> str:
        """The value for a table: a percentage for shares, else thousands separators and the metric's decimals."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        if self.share:
            return f"{100 * value:.{max(self.decimals - 2, 0) + 1}f}%"
        return f"{value:,.{self.decimals}f}"

    def format_change(self, diff: float) -> str:
        """A difference with its sign: percentage points for shares, else in the metric's unit."""
        if diff is None or (isinstance(diff, float) and math.isnan(diff)):
            return "n/a"
        if self.share:
            return f"{100 * diff:+.{max(self.decimals - 2, 0) + 1}f} pp"
        return f"{diff:+,.{self.decimals}f}"

    def change(self, base: float, diff: float, low: float, high: float) -> Change:
        """A paired change (diff, with its interval low to high) against `base`, in words."""
        return Change(self.format(base), self.format_change(diff), format_percent(percent_change(diff, base)),
                      f"{self.format_change(low)} to {self.format_change(high)}", self.verdict(low, high))

    def verdict(self, low: float, high: float) -> str:
        """'better', 'worse' or 'no clear change', from an interval of a difference (change minus base)."""
        if any(x is None or math.isnan(x) for x in (low, high)) or low <= 0 <= high or not self.better:
            return "no clear change"
        up = low > 0
        return "better" if up == (self.better == "higher") else "worse"


def percent_change(diff: float, base: float) -> float:
    """diff as a percentage of base (NaN where base is 0 or unknown)."""
    if base is None or diff is None or base == 0 or math.isnan(base) or math.isnan(diff):
        return float("nan")
    return 100.0 * diff / base


def format_percent(value: float) -> str:
    """A % change with its sign, or n/a."""
    return "n/a" if value is None or math.isnan(value) else f"{value:+.1f}%"


def per_week(rate_per_1000: float, patients: int) -> float:
    """A rate per 1,000 person-years as events a week for a list of `patients` (a PCN's own terms)."""
    return rate_per_1000 / 1000 * patients / (DAYS_PER_YEAR / 7)


_SETTING_WORDS = {**{role: f"{label} contacts" for role, label in ROLE_LABELS.items()},
                  "gp": "GP contacts", "ae": "A&E attendances", "admission": "emergency admissions",
                  "outpatient": "outpatient referrals"}


def _entries() -> list[Metric]:
    m = [
        Metric("person_years", "Person-years registered", "person-years",
               "Days registered over the year / 364, summed over everyone on the list at any time.", decimals=0),
        Metric("primary_care_contacts_per_person", "Primary-care contacts per person", "contacts per person-year",
               "Attended contacts with any practice or network role (not A&E, hospital or community nursing).",
               decimals=2),
        Metric("gp_share_of_contacts", "GP share of primary-care contacts", "share of contacts",
               "GP contacts / primary-care contacts.", share=True),
        Metric("continuity_upc", "Continuity of GP care", "UPC index, 0 to 1",
               "Usual provider of care index: a person's GP contacts with their usual GP / all their GP contacts "
               "in the year, averaged over the people with two or more GP contacts in it.", better="higher",
               decimals=3),
        Metric("revisit_rate", "Revisit rate", "share of contacts",
               "Primary-care contacts that were not the first contact of their need episode / all of them.",
               better="lower", share=True),
        Metric("revisits_per_1000", "Revisits", PER_1000,
               "Primary-care contacts after the first for the same need episode.", better="lower"),
        Metric("dna_rate", "Missed appointments (DNA rate)", "share of booked appointments",
               "Did-not-attends / (attended booked contacts + did-not-attends).", better="lower", share=True),
        Metric("unmet_days_per_person", "Days with an unmet need", "episode-days per person-year",
               "Days a need episode was open without a contact.", better="lower", decimals=2),
        Metric("unserved_requests_per_1000", "Requests not served on the day", PER_1000,
               "Requests for care that found no slot on the day they were made.", better="lower",
               events="unserved requests"),
        Metric("ae_per_1000", "A&E attendances", PER_1000, "All A&E attendances: background, direct and "
               "after a request primary care could not serve.", better="lower", events="A&E attendances"),
        Metric("ae_primary_care_sensitive_share", "A&E attendances primary care could have met", "share of A&E",
               "A&E attendances tied to an open need episode / all A&E attendances.", better="lower", share=True),
        Metric("admissions_per_1000", "Emergency admissions", PER_1000,
               "A&E attendances that led to an emergency admission.", better="lower", events="emergency admissions"),
        Metric("admitted_share_of_ae", "Share of A&E attendances admitted", "share of A&E",
               "Emergency admissions / A&E attendances.", share=True),
        Metric("outpatient_per_1000", "Outpatient referrals", PER_1000, "Referrals to outpatients from contacts."),
        Metric("zero_contact_share", "People with no primary-care contact", "share of people",
               "People registered all year with no primary-care contact in it / all registered all year.",
               share=True),
        Metric("cost_per_person", "Cost of care contacts", "GBP per person-year",
               "Touchpoints x unit cost by setting (staff salaries are not included).", better="lower"),
        Metric("cost_total", "Cost of care contacts, total", "GBP a year",
               "Touchpoints x unit cost by setting, summed over the list.", better="lower", decimals=0),
        Metric("staff_cost_per_person", "Cost of staff in post", "GBP per person-year",
               "FTE in post by role at practices and network pools (levers' staff included) x employment cost "
               "per FTE-year, over person-years registered.", better="lower"),
        Metric("net_cost_per_person", "Net cost: staff and care contacts", "GBP per person-year",
               "Cost of staff in post plus cost of care contacts (A&E, admissions and outpatients included).",
               better="lower"),
        Metric("gp_home_visits_per_1000", "GP urgent home visits", PER_1000,
               "Urgent home visits made by GPs.", better="lower"),
        Metric("gp_hours_on_home_visits_per_1000", "GP hours on home visits", f"hours {PER_1000}",
               "GP home visits x the slots each takes x 15 minutes a slot.", better="lower", events="GP hours"),
    ]
    for setting in SETTINGS:
        if setting in ("ae", "admission", "outpatient"):
            continue
        better = "lower" if setting == "gp" else ""
        words = _SETTING_WORDS[setting]
        m.append(Metric(f"{setting}_per_1000", words[0].upper() + words[1:], PER_1000,
                        f"Attended contacts with the {ROLE_LABELS[setting]}.", better=better,
                        events="GP appointments" if setting == "gp" else ""))
    for definition, words in FA_DEFINITIONS.items():
        who = f"frequent attenders ({words})"
        m += [
            Metric(f"fa_{definition}_prevalence", f"Frequent attenders, {words}", "share of people",
                   f"Share of people registered all year who are {who}.", share=True),
            Metric(f"fa_{definition}_share_of_contacts", f"Contacts made by frequent attenders, {words}",
                   "share of contacts", f"Primary-care contacts by {who} / all primary-care contacts.", share=True),
            Metric(f"fa_{definition}_persistence", f"Frequent attenders still frequent a year on, {words}",
                   "share of frequent attenders", f"Share of a year's {who} who are frequent attenders again the "
                   "next year (needs two reported years).", share=True),
            Metric(f"fa_{definition}_inflow_share", f"New frequent attenders, {words}", "share of frequent attenders",
                   f"Share of a year's {who} who were not frequent attenders the year before.", share=True),
        ]
    # the summary also gives admissions under the setting's own name
    m.append(Metric("admission_per_1000", "Emergency admissions", PER_1000, "As 'Emergency admissions'.",
                    better="lower"))
    m.extend(Metric(f"zero_contact_share_age_{band}", f"People aged {band} with no primary-care contact",
                    "share of people", "As 'People with no primary-care contact', for one age band.", share=True)
             for band in AGE_BAND_LABELS)
    return m


METRICS: dict[str, Metric] = {metric.key: metric for metric in _entries()}

# Needs segments (`patients_yearly.parquet`'s segment) in words.
SEGMENT_WORDS = {"well": "generally well", "ltc": "a long-term condition", "frail": "frail",
                 "multimorbid": "several long-term conditions", "struggling": "struggling with life",
                 "young_distress": "young and in distress"}
assert set(SEGMENT_WORDS) == set(SEGMENTS)

# Weekly series (`series.parquet`): counts a week by practice.
SERIES_WORDS = {
    **{s: _SETTING_WORDS[s] for s in SETTINGS},
    "dna": "missed appointments (DNAs)", "revisits": "revisits", "unmet_days": "episode-days with an unmet need",
    "requests": "requests for primary care", "unserved_requests": "requests not served on the day",
    "ae_primary_care_sensitive": "A&E attendances primary care could have met",
    "episodes_opened": "need episodes started", "clustered_contacts": "contacts that were the 4th+ in 30 days",
    "mdt_enrolled_months": "months on the complex-care caseload", "gp_usual": "GP contacts with the usual GP",
    "episodes_resolved": "need episodes resolved by care", "episodes_self_resolved": "need episodes that resolved by "
    "themselves", "episodes_closed_by_exit": "need episodes closed as the patient left",
    "onsets_merged": "new needs merged into open episodes", "deaths": "deaths", "leavers": "people leaving the list",
    "births": "births", "registrations": "new registrations", "gp_home_visits": "GP urgent home visits",
    "ae_background": "A&E attendances not tied to a need episode",
    "navigated_requests": "requests a care navigator booked",
}
for _role, _label in ROLE_LABELS.items():
    SERIES_WORDS[f"overflow_to_network_{_role}"] = f"requests for a {_label} booked in a network pool"
    SERIES_WORDS[f"unplaced_{_role}"] = f"requests for a {_label} no unit could book"
assert set(SERIES_WORDS) >= {*SETTINGS, *COUNTER_NAMES, *WEEKLY_EVENT_NAMES}


def get(key: str) -> Metric:
    """The registry's entry for a metric key (KeyError naming the key if it has none)."""
    try:
        return METRICS[key]
    except KeyError:
        raise KeyError(f"no metric called {key!r} in pcnsim.registry") from None


def label(key: str) -> str:
    """The plain-English name of a metric (or of a weekly series), with no unit; a key the registry does not
    know is written out in words rather than refused."""
    if key in METRICS:
        return METRICS[key].label
    if key in SERIES_WORDS:
        return SERIES_WORDS[key][0].upper() + SERIES_WORDS[key][1:] + " a week"
    return key.replace("_", " ").capitalize()


def label_with_unit(key: str) -> str:
    """'Label (unit)', as a table header or an axis title."""
    return f"{METRICS[key].label} ({METRICS[key].unit})" if key in METRICS else label(key)
