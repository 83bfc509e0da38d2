"""The year end: the per-patient table's rows of the year, and the counters zeroed for the next.

Unmet-need days are completed up to the year's last day, then one row is written per listed patient and
one per person who died or left during the year (their records were kept as they left).
"""

from ..vocab import DAYS_PER_YEAR
from .config import jit
from .episodes import flush_all_unmet
from .hints import AHEAD, prefetch_patient, prefetch_pays
from .state import (
    N_COUNTERS,
    PRIMARY_COLUMNS,
    X_BIRTH_DAY,
    X_CX,
    X_DEP,
    X_EXIT_DAY,
    X_PID,
    X_PRACTICE,
    X_REASON,
    X_REG_DAY,
    X_SEG,
    X_SEX,
)


@jit
def close_year(S, T, day, rows_at, zero):
    """The year ending on `day`: unmet episode-days accounted up to `day`, so the yearly counters are
    complete; then, if rows_at >= 0, the per-patient table's rows of the year written to T.table from row
    rows_at: one per slot's person (row rows_at + slot), then one per leaver of the year (T.exit_meta).
    With `zero`, each slot's counters are then zeroed for the next year."""
    n = S.patients.shape[0]
    n_exits = min(T.n_exits[0], T.exit_meta.shape[0])
    ahead = prefetch_pays(S)
    write = rows_at >= 0 and rows_at + n + n_exits <= T.table[0].shape[0]
    for i in range(n):
        rec = S.patients[i]
        if ahead and i + 4 * AHEAD < n:
            prefetch_patient(S, i + 4 * AHEAD)
        flush_all_unmet(S, T, i, day)
        if write:
            table_row(T.table, rows_at + i, rec["pid"], rec["practice"], rec["birth_day"], rec["sex"], rec["dep"],
                      rec["seg"], rec["cx"], rec["reg_day"], day, 0, rec["counters"], day - DAYS_PER_YEAR)
        if zero:
            for c in range(N_COUNTERS):
                rec["counters"][c] = 0
    if write:
        for x in range(n_exits):
            meta = T.exit_meta[x]
            table_row(T.table, rows_at + n + x, meta[X_PID], meta[X_PRACTICE], meta[X_BIRTH_DAY], meta[X_SEX],
                      meta[X_DEP], meta[X_SEG], meta[X_CX], meta[X_REG_DAY], meta[X_EXIT_DAY], meta[X_REASON],
                      T.exit_counters[x], day - DAYS_PER_YEAR)


@jit
def table_row(C, r, pid, practice, birth, sex, dep, seg, cx, reg, end, reason, counters, start):
    """Row r of the per-patient yearly table (columns C: `state.TABLE_COLUMNS`): person id, practice, age at
    `end` (the year end, or the day they left), sex, deprivation (1-based), segment, complexity, days
    registered since `start`, exit reason (0: still listed), the yearly counters and their primary-care
    sum."""
    pid_c, practice_c, age_c, sex_c, dep_c, seg_c, cx_c, registered_c, exit_c, counters_c, primary_c = C
    pid_c[r] = pid
    practice_c[r] = practice
    age_c[r] = (end - birth) // DAYS_PER_YEAR
    sex_c[r], dep_c[r], seg_c[r], cx_c[r], exit_c[r] = sex, dep + 1, seg, cx, reason
    registered_c[r] = end - max(reg, start)
    for c in range(N_COUNTERS):
        counters_c[r, c] = counters[c]
    total = 0
    for c in PRIMARY_COLUMNS:
        total += counters[c]
    primary_c[r] = total
