"""Data layout of the engine: parameter tables, patient state (one record per
patient slot: `State.patients` for the kernels, and one array view per field) and tallies.

Three namedtuples of numpy arrays and scalars travel into every kernel:
- `Params`: the scenario flattened into lookup tables (built by `pcnsim.params`), read-only;
- `State`: one row per patient slot (plus open need episodes, K per patient) and the booking diaries;
- `Tally`: what the run records: weekly counters per practice, capacity use, leavers' records, the
  optional touchpoint ledger and the per-patient yearly table's columns.

A patient slot is reused when its person dies or leaves: a new person (a birth or a new registration)
takes it with a fresh person id, so list sizes are stationary and state stays bounded. Day numbers are
absolute (day 0 = first day of burn-in); a model year is 52 weeks = 364 days; a month is 4 weeks.
"""

from collections import namedtuple

import numpy as np

from ..pages import empty_on_small_pages as empty_on_small_pages
from ..vocab import COUNTER_NAMES as COUNTER_NAMES  # the counters' names and the calendar, as the layout uses them
from ..vocab import DAYS_PER_MONTH as DAYS_PER_MONTH
from ..vocab import DAYS_PER_YEAR as DAYS_PER_YEAR
from ..vocab import N_ROLES, N_SETTINGS, PRIMARY_CARE_ROLES, SETTINGS
from ..vocab import WEEKLY_EVENT_NAMES as WEEKLY_EVENT_NAMES

EPISODE_SLOTS = 3  # open need episodes a patient can hold at once; a further onset merges into them
NEVER = 1 << 30  # "no such event scheduled" day

# ---- per-patient yearly counters (columns of State.counters) -------------------------------------
# Columns 0..N_SETTINGS-1 count touchpoints by setting (vocab.SETTINGS order), then vocab.COUNTER_NAMES.
(C_DNA, C_REVISITS, C_UNMET_DAYS, C_REQUESTS, C_UNSERVED, C_AE_SENSITIVE, C_EPISODES, C_CLUSTER, C_MDT_MONTHS,
 C_GP_USUAL) = (
    N_SETTINGS + COUNTER_NAMES.index(name) for name in (
        "dna", "revisits", "unmet_days", "requests", "unserved_requests", "ae_primary_care_sensitive",
        "episodes_opened", "clustered_contacts", "mdt_enrolled_months", "gp_usual"))
N_COUNTERS = N_SETTINGS + len(COUNTER_NAMES)
CLUSTER_WINDOW = 30  # days: "more than 3 contacts in any 30-day window"
CLUSTER_CONTACTS = 3  # contact days remembered per patient (more if case finding needs them)
SORT_BITS = 11  # a sort buckets its keys by at most this many top bits (`sorting.sort_keys`)
GP_MEMORY = 8  # a patient's latest GP contacts remembered for continuity (one bit each: with the usual GP or not)

# ---- weekly counters per practice (columns of Tally.weekly): the patient counters, then events ----
M_RESOLVED = N_COUNTERS
M_SELF_RESOLVED = N_COUNTERS + 1
M_CLOSED_EXIT = N_COUNTERS + 2
M_MERGED = N_COUNTERS + 3
M_DEATHS = N_COUNTERS + 4
M_LEAVERS = N_COUNTERS + 5
M_BIRTHS = N_COUNTERS + 6
M_REGISTRATIONS = N_COUNTERS + 7
M_HOME_VISITS = N_COUNTERS + 8
M_AE_BACKGROUND = N_COUNTERS + 9
M_NAVIGATED = N_COUNTERS + 10
# Overflow by role (column + role): requests the practice could not book for a role it holds, booked in a
# network pool instead; and requests no unit could book for their role (fell back to the GP or unserved).
M_TO_NETWORK = N_COUNTERS + 11
M_UNPLACED = M_TO_NETWORK + N_ROLES
N_WEEKLY = M_UNPLACED + N_ROLES

# ---- leavers' records (Tally.exit_meta columns) ----------------------------------------------------
X_PID, X_PRACTICE, X_BIRTH_DAY, X_SEX, X_DEP, X_SEG, X_CX, X_REG_DAY, X_EXIT_DAY, X_REASON = range(10)
N_EXIT_META = 10
EXIT_DIED, EXIT_LEFT = 1, 2

# ---- ledger rows (Tally.ledger columns) ------------------------------------------------------------
L_DAY, L_PID, L_SETTING, L_UNIT, L_NEED, L_OUTCOME, L_URGENCY, L_EPISODE = range(8)
N_LEDGER = 8

Params = namedtuple(
    "Params",
    [
        # calendar
        "working", "wd_index", "next_working",
        # structure and capacity (units: practices 0..P-1, one network pool per PCN, then any shared pool
        # of a network of networks; pcn_shared[c] is that pool's unit for member PCNs, else -1)
        "practice_pcn", "pcn_shared", "cap_rate", "same_day_reserve", "horizon", "home_visit_slots",
        # needs and care
        "route_cum", "match", "fit", "need_same_day", "need_urgent", "selfres_rate", "revisit_mean",
        "seek_mult", "outpatient_ref", "referral_role", "referral_prob",
        # onset and access
        "onset_rate", "onset_total", "cx_onset_mult", "access", "follow_up_mult",
        # A&E and admissions
        "ae_bg_daily", "ae_unserved", "ae_wait_slope", "ae_mult", "ae_direct", "admit", "admission_resolves",
        # booking
        "dna_same", "dna_week",
        # complexity
        "esc", "desc", "unmet_effect", "fit_effect", "seg_complex", "complex_seg_mult", "old_age_mult",
        # complex-care team: case finding, caseload per PCN, enrolment, effects on enrolled patients
        "mdt_caseload", "mdt_min_contacts", "mdt_window", "mdt_min_cx", "mdt_days", "mdt_needs", "mdt_ae_mult",
        "mdt_desc_mult",
        # care navigation: navigations a working day per PCN, and each need's roles from the best fit down
        # (-1 after the last)
        "nav_per_day", "nav_order",
        # continuity of GP care: the chance a GP contact at a unit is with the patient's usual GP; the factor on
        # the chance such a contact resolves the need; multipliers on A&E and on admission by the patient's
        # remembered GP contacts [how many, how many with the usual GP]
        "usual_gp", "usual_gp_resolve", "continuity_ae", "continuity_admit",
        # demography and new persons
        "death_monthly", "leave_monthly", "newborn_share", "entrant_cdf", "dep_cdf", "seg_cdf", "cx_cdf",
        "max_age",
        # person ids (pcnsim.partition): first id of each practice's initial list; each practice's group;
        # the next newcomer's id in each group; the step between a group's newcomer ids
        "first_pid", "practice_group", "entrant_pid", "pid_stride",
        # random streams
        "keys",
    ],
)

# The state as the kernels see it: the patient records (`PATIENT`), the same bytes as rows (for prefetching),
# the day's next events, remembered contact days, the diaries and the newcomer ids. Only whole arrays, so
# their types are the same for every list size (a view of one field of a single record would be typed
# contiguous, and compiled anew).
KernelState = namedtuple(
    "KernelState",
    ["patients", "rows", "next_event", "last_contacts", "sameday_free", "routine_free", "routine_opened",
     "routine_left", "routine_first", "next_pid"],
)

# The state as Python sees it: every field of the records as an array of its own (views of the records),
# the other arrays, and `kernel`, what the kernels are given.
State = namedtuple(
    "State",
    [
        "pid", "practice", "birth_day", "sex", "dep", "seg", "cx", "reg_day",
        "next_onset", "next_bg_ae", "next_event", "unmet_month", "fit_month", "enrolled_until",
        "ep_type", "ep_urg", "ep_open", "ep_next", "ep_selfres", "ep_n", "ep_booked", "ep_unit", "ep_role",
        "ep_lead", "ep_wait", "ep_acc", "ep_pref", "gp_seen", "gp_history",
        "last_contacts", "counters", "sameday_free", "routine_free", "routine_opened", "routine_left",
        "routine_first", "next_pid", "patients", "kernel",
    ],
)

Workspace = namedtuple(
    "Workspace",
    [
        # the patient slots with an event due today
        "active",
        # the day's requests for care (or the month's case-finding candidates): patient slot, episode,
        # booking-order key, what booking needs of each, what it decided, and the sort into booking order
        "req_i", "req_k", "order_key", "req_need", "req_urg", "req_practice", "req_role", "req_spill",
        "req_nav", "req_unit", "req_day", "order", "sorted_key", "buckets",
        # the day's contacts (patient slot, episode) and A&E attendances (episode -1: not tied to one)
        "con_i", "con_k", "ae_i", "ae_k",
        # booked slots released by closing episodes, given back to the diaries before booking
        "released",
        # the complex-care team's caseload per PCN during case finding
        "caseload",
        # navigations left today per PCN
        "nav_left",
        # lengths of the lists above (one-element arrays): requests, contacts (and how many of them were
        # booked on earlier days), A&E attendances, case-finding candidates, released slots
        "n_requests", "n_contacts", "n_earlier_contacts", "n_ae", "n_candidates", "n_released",
    ],
)

Tally = namedtuple(
    "Tally",
    ["weekly", "cap_offered", "cap_used", "exit_meta", "exit_counters", "n_exits", "ledger", "n_ledger",
     "ledger_on", "table"],
)

# ---- the per-patient yearly table (Tally.table: its columns, in this order, for every reported year) ------
TABLE_COLUMNS = ("patient_id", "practice", "age", "sex", "deprivation", "segment", "complexity", "registered_days",
                 "exit", "counters", "primary")
# Fixed types, so that every scenario runs the same compiled kernels; the practice codes are 16-bit (pandas
# takes them as categories' codes, narrowing them for fewer than 128 practices).
TABLE_TYPES = {"patient_id": np.int64, "practice": np.int16, "age": np.int16, "sex": np.int8,
               "deprivation": np.int8, "segment": np.int8, "complexity": np.int8, "registered_days": np.int16,
               "exit": np.int8, "counters": np.int32, "primary": np.int64}
MAX_TABLE_PRACTICES = 1 << 15
PRIMARY_COLUMNS = tuple(SETTINGS.index(r) for r in PRIMARY_CARE_ROLES)  # counters summed as 'primary'


HUGE_PAGE = 2 << 20  # bytes: a transparent huge page on x86-64 and most ARM kernels
CACHE_LINE = 64

# A patient slot's fields as one 256-byte record (four cache lines), widest first so every field is
# aligned. The kernels read and write a patient through its record (`State.patients[i]`): every field is
# then a constant offset from one address, where one strided array per field cost a base address and a
# stride each, which the big kernels kept on the stack (1.2x one thread). Python code sees each field as
# its own (strided) array, named as in `State`. Fields that are never negative and index parameter tables
# (practice, sex, deprivation, segment, complexity, urgency, role) are unsigned, so numba adds no
# negative-index fix-up where they are used as indices.
PATIENT = np.dtype({
    "names": ["pid", "practice", "birth_day", "reg_day", "next_onset", "next_bg_ae", "unmet_month", "fit_month",
              "enrolled_until", "ep_open", "ep_next", "ep_selfres", "ep_unit", "ep_wait", "ep_acc", "counters",
              "ep_n", "ep_lead", "sex", "dep", "seg", "cx", "gp_seen", "gp_history", "ep_type", "ep_urg", "ep_booked",
              "ep_role", "ep_pref"],
    "formats": ["i8", "u4"] + ["i4"] * 7 + [("i4", EPISODE_SLOTS)] * 6 + [("i4", N_COUNTERS)]
               + [("i2", EPISODE_SLOTS)] * 2 + ["u1"] * 6
               + [(kind, EPISODE_SLOTS) for kind in ("i1", "u1", "i1", "u1", "i1")],
    "itemsize": 4 * CACHE_LINE,
})
assert np.dtype([(f, PATIENT.fields[f][0]) for f in PATIENT.names]).itemsize <= PATIENT.itemsize


def _state_parts(n: int, n_units: int, horizon: int, contact_memory: int, n_groups: int) -> dict:
    """(shape, dtype) of each array of the state's buffer, in buffer order."""
    return {
        "patients": ((n,), PATIENT),
        "next_event": ((n,), np.int32),
        "last_contacts": ((n, max(contact_memory, CLUSTER_CONTACTS)), np.int32),
        "sameday_free": ((n_units, N_ROLES), np.int32),
        "routine_free": ((n_units, N_ROLES, horizon + 1), np.int32),
        "routine_opened": ((n_units, N_ROLES, horizon + 1), np.int32),
        "routine_left": ((n_units, N_ROLES), np.int32),
        "routine_first": ((n_units, N_ROLES), np.int32),
        "next_pid": ((n_groups,), np.int64),
    }


def _nbytes(shape: tuple, dtype) -> int:
    return int(np.prod(shape)) * np.dtype(dtype).itemsize


def allocate_state(n: int, n_units: int, horizon: int, contact_memory: int = CLUSTER_CONTACTS,
                   n_groups: int = 1) -> State:
    """Empty state for n patient slots (filled by the population kernel); `contact_memory` is how many
    recent primary-care contact days each patient remembers (at least CLUSTER_CONTACTS); one newcomer id
    counter per group of PCNs (`pcnsim.partition`).

    A patient's fields are one record (`PATIENT`; `State.patients`, with a view per field over the same
    memory), so the day's scattered patients cost four cache lines each, not one in each of ~30 arrays;
    the day's scan reads `next_event`, kept as its own array. All of it is one buffer aligned to a huge
    page: numpy asks Linux for transparent huge pages for a buffer of 4 MiB or more, so a large list's
    state does not overflow the core's TLB. No number depends on this."""
    parts = _state_parts(n, n_units, horizon, contact_memory, n_groups)
    offsets, end = {}, 0
    for name, (shape, dtype) in parts.items():
        end = -(-end // CACHE_LINE) * CACHE_LINE
        offsets[name] = end
        end += _nbytes(shape, dtype)
    align = HUGE_PAGE if end >= 2 * HUGE_PAGE else CACHE_LINE
    buffer = np.zeros(end + align, np.uint8)
    start = -buffer.ctypes.data % align
    arrays = {}
    for name, (shape, dtype) in parts.items():
        at = start + offsets[name]
        arrays[name] = buffer[at:at + _nbytes(shape, dtype)].view(dtype).reshape(shape)
    patients = arrays.pop("patients")
    for name in ("next_onset", "next_bg_ae", "ep_next", "ep_selfres", "ep_acc"):
        patients[name] = NEVER
    for name in ("ep_type", "ep_wait", "ep_pref"):
        patients[name] = -1
    arrays["next_event"][:] = NEVER
    arrays["last_contacts"][:] = -NEVER
    rows = patients.view(np.uint8).reshape(n, PATIENT.itemsize)
    kernel = KernelState(patients=patients, rows=rows, **arrays)
    return State(**{name: patients[name] for name in PATIENT.names}, **arrays, patients=patients, kernel=kernel)


def state_bytes(n: int, contact_memory: int = CLUSTER_CONTACTS) -> int:
    """Bytes of state that n patient slots add (records, next events, contact memory; the diaries and
    group counters do not grow with n), read off the layout `allocate_state` uses."""
    some, none = (_state_parts(m, 1, 1, contact_memory, 1) for m in (n, 0))
    return sum(_nbytes(*some[name]) - _nbytes(*none[name]) for name in some)


def allocate_workspace(n: int, n_pcns: int = 1) -> Workspace:
    """Per-day buffers for n patient slots: at most one entry per open episode (requests, contacts,
    released slots) or per patient (the due list; A&E has room for both)."""
    m = n * EPISODE_SLOTS + 1
    i32 = np.int32

    def length():
        return np.zeros(1, np.int64)

    return Workspace(
        active=np.zeros(n, i32), req_i=np.zeros(m, i32), req_k=np.zeros(m, i32),
        order_key=np.zeros(m, np.uint64), req_need=np.zeros(m, np.uint8), req_urg=np.zeros(m, np.uint8),
        req_practice=np.zeros(m, np.uint32), req_role=np.zeros(m, np.int8), req_spill=np.zeros(m, np.bool_),
        req_nav=np.zeros(m, np.bool_),
        req_unit=np.zeros(m, i32), req_day=np.zeros(m, i32), order=np.zeros(m, i32),
        sorted_key=np.zeros(m, np.uint64), buckets=np.zeros((1 << SORT_BITS) + 1, i32),
        con_i=np.zeros(m, i32), con_k=np.zeros(m, i32), ae_i=np.zeros(m + n, i32), ae_k=np.zeros(m + n, i32),
        released=np.zeros(m, np.int64), caseload=np.zeros(max(n_pcns, 1), np.int64),
        nav_left=np.zeros(max(n_pcns, 1), np.int64),
        n_requests=length(), n_contacts=length(), n_earlier_contacts=length(), n_ae=length(),
        n_candidates=length(), n_released=length(),
    )


def table_columns(rows: int) -> tuple:
    """Empty columns for `rows` rows of the per-patient yearly table (TABLE_COLUMNS, of TABLE_TYPES), the
    counters as one (rows, N_COUNTERS) block whose columns are each contiguous (so are a table's columns
    then, and joining tables copies each in one piece). Each is on ordinary pages (`empty_on_small_pages`:
    in huge pages the first run of a process took ~40 ms longer); rows never written cost no memory. At
    least two rows, so the counters' block is always of one (Fortran) layout for the kernels."""
    rows = max(rows, 2)
    return tuple(empty_on_small_pages((N_COUNTERS, rows), np.int32).T if name == "counters"
                 else empty_on_small_pages((rows,), TABLE_TYPES[name]) for name in TABLE_COLUMNS)


def allocate_tally(n_weeks: int, n_practices: int, n_units: int, exit_capacity: int,
                   ledger_capacity: int = 0, table_rows: int = 0) -> Tally:
    """Empty tallies; the ledger buffer exists only when `ledger_capacity` > 0, the yearly table's columns
    (`table_columns`) for `table_rows` rows."""
    if table_rows > 0 and n_practices > MAX_TABLE_PRACTICES:
        raise ValueError(f"the per-patient table holds at most {MAX_TABLE_PRACTICES} practices, not {n_practices}")
    return Tally(
        weekly=np.zeros((n_weeks, n_practices, N_WEEKLY), np.int64),
        cap_offered=np.zeros((n_weeks, n_units, N_ROLES), np.int64),
        cap_used=np.zeros((n_weeks, n_units, N_ROLES), np.int64),
        exit_meta=np.zeros((exit_capacity, N_EXIT_META), np.int64),
        exit_counters=np.zeros((exit_capacity, N_COUNTERS), np.int32),
        n_exits=np.zeros(1, np.int64),
        ledger=np.zeros((max(ledger_capacity, 1), N_LEDGER), np.int64),
        n_ledger=np.zeros(1, np.int64),
        ledger_on=ledger_capacity > 0,
        table=table_columns(table_rows),
    )
