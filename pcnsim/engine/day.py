"""The daily step: the order in which the mechanisms run, declared once (`STEPS`) and followed by
`run_days` (a test checks the two agree; `pcnsim describe` prints `STEPS`).

Every per-patient step touches only its patient, and every random number is a counter-based draw keyed
by (stream, person id, day, k), so a run is a pure function of its inputs. Booking is the one step in
which patients compete for the same slots; it reads only what the patient pass listed.
"""

from typing import NamedTuple

from ..vocab import DAYS_PER_MONTH
from .casefinding import find_cases
from .config import entry
from .contacts import earlier_contacts, take_bookings, todays_contacts
from .demography import monthly_pass
from .diary import book, open_diary, record_capacity, return_slots
from .hospital import attend_listed_ae
from .seeking import patient_pass
from .sorting import sort_keys
from .yearend import close_year

# How `run_days` ends: the year goes on; it closes at d1; it closes and the counters are zeroed.
YEAR_ON, YEAR_CLOSED, YEAR_CLOSED_ZEROED = 0, 1, 2


class Step(NamedTuple):
    """One step of the day: the mechanism it carries out (docs/model.md), when it runs, the function, and what it
    does in a line."""

    name: str
    when: str
    function: object
    description: str


STEPS = (
    Step("demography and complexity", "every 4 weeks", monthly_pass,
         "unmet need accounted; deaths and leavers, their slots taken by births and new registrations; "
         "complexity moves up with unmet need and down with needs met by a service that fits; the month's "
         "onset and background A&E clocks; complex-care candidates listed"),
    Step("case finding", "every 4 weeks", find_cases,
         "candidates (most complex first, then at random) join the complex-care caseload while it has room"),
    Step("diaries", "every day", open_diary,
         "today's same-day slots are set and the routine slots of the day a booking horizon ahead open"),
    Step("onset and care seeking", "every day", patient_pass,
         "for patients with an event due: self-resolution, new need episodes, background A&E; each episode "
         "due today attends its booked contact, or asks primary care (triaged to a role, and whether it goes "
         "to A&E if unserved decided), or goes straight to A&E, or waits"),
    Step("booking order", "every day", sort_keys,
         "requests ordered by urgency, then a counter-based random priority"),
    Step("released slots", "every day", return_slots,
         "slots freed by closed episodes go back to the diaries"),
    Step("earlier bookings", "every day", earlier_contacts,
         "contacts booked on earlier days for today: did-not-attend, or attend and maybe resolve"),
    Step("booking", "every day", book,
         "each request in order takes a slot (own practice, then network pool, then shared pool; GP as the "
         "fall-back role), care navigators first booking those they have time for with the best-fitting "
         "role that has a slot; or waits for the next working day or goes to A&E"),
    Step("capacity ledger", "every day", record_capacity,
         "slots offered and used by unit and role; today's unbooked routine slots expire"),
    Step("booking outcomes", "every day", take_bookings,
         "each request's booked slot, or its wait and whether it was unserved, reaches its episode"),
    Step("today's contacts", "every day", todays_contacts,
         "contacts booked today for today: did-not-attend, or attend and maybe resolve, refer or return"),
    Step("A&E and admissions", "every day", attend_listed_ae,
         "background, direct and spill-over attendances; admission by age and complexity; hospital "
         "resolves the need or it returns"),
    Step("year end", "at each year's end", close_year,
         "yearly counters completed, the per-patient table's rows written, the counters zeroed"),
)


@entry
def run_days(S, P, T, W, d0, d1, year_end, rows_at):
    """Advance the simulation over days [d0, d1) in the order of `STEPS`; then, unless `year_end` is
    YEAR_ON, close the year at d1 (the table's rows from row `rows_at` if that is not negative; the counters
    zeroed after them if YEAR_CLOSED_ZEROED)."""
    for day in range(d0, d1):
        if day % DAYS_PER_MONTH == 0:
            monthly_pass(S, P, T, W, day)
            find_cases(S, P, T, W, day)
        open_diary(S, P, day)
        patient_pass(S, P, T, W, day)
        sort_keys(W, W.n_requests[0])
        return_slots(S, P, W, day)
        earlier_contacts(S, P, T, W, day)
        book(S, P, T, W, day)
        record_capacity(S, P, T, day)
        take_bookings(S, P, T, W, day)
        todays_contacts(S, P, T, W, day)
        attend_listed_ae(S, P, T, W, day)
    if year_end != YEAR_ON:
        close_year(S, T, d1, rows_at, year_end == YEAR_CLOSED_ZEROED)
