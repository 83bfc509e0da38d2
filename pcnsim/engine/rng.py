"""Counter-based random numbers: a draw is a pure function of (seed, stream, person, day, k).

No generator state is carried anywhere, so results do not depend on the order patients are visited,
on thread or process counts, or on which other mechanisms drew numbers (common random numbers across
scenarios). The hash is splitmix64's finaliser applied twice; `uniform` maps it to [0, 1).

Streams are named per mechanism so a lever that changes one mechanism leaves the others' draws alone.
"""

import numpy as np

from .config import jit

# Named streams (append only: renumbering changes every result).
ONSET_TIME = 1
ONSET_TYPE = 2
URGENCY = 3
SELF_RESOLUTION = 4
SEEK = 5
DIRECT_AE = 6
TRIAGE = 7
PRIORITY = 8
DNA = 9
RESOLVE = 10
REVISIT_INTERVAL = 11
OUTPATIENT = 12
REFERRAL = 13
AE_CHOICE = 14
ADMIT = 15
HOSPITAL_RESOLVE = 16
BACKGROUND_AE = 17
DEATH = 18
LEAVE = 19
NEWBORN = 20
PERSON_AGE = 21
PERSON_SEX = 22
PERSON_DEPRIVATION = 23
PERSON_SEGMENT = 24
PERSON_COMPLEXITY = 25
COMPLEXITY = 26
CASE_FINDING = 27
USUAL_GP = 28
N_STREAMS = 32

STREAM_NAMES = {
    value: name.lower()
    for name, value in dict(globals()).items()
    if isinstance(value, int) and name.isupper() and not name.startswith("_") and value < N_STREAMS
}

_MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_INV_2_53 = 1.0 / 9007199254740992.0


@jit
def mix64(z):
    """splitmix64 finaliser on a uint64."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def stream_keys(seed: int) -> np.ndarray:
    """One 64-bit key per stream for a run seed (computed once per run, in Python)."""
    keys = np.empty(N_STREAMS, dtype=np.uint64)
    for s in range(N_STREAMS):
        keys[s] = mix64_py((mix64_py(seed & _MASK) + s * GOLDEN) & _MASK)
    return keys


@jit
def bits(key, pid, day, k):
    """64 random bits for (stream key, person id, day, draw index k < 256)."""
    h = mix64(key + np.uint64(pid) * np.uint64(GOLDEN))
    return mix64(h ^ ((np.uint64(day) << np.uint64(8)) | np.uint64(k)))


@jit
def uniform(key, pid, day, k):
    """A uniform draw in [0, 1) for (stream key, person id, day, draw index)."""
    return float(bits(key, pid, day, k) >> np.uint64(11)) * _INV_2_53


# Plain-Python twins (used to derive stream keys and by the reference implementation in tests).
def mix64_py(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def bits_py(key: int, pid: int, day: int, k: int) -> int:
    h = mix64_py((int(key) + pid * GOLDEN) & _MASK)
    return mix64_py(h ^ (((day << 8) | k) & _MASK))


def uniform_py(key: int, pid: int, day: int, k: int) -> float:
    return (bits_py(key, pid, day, k) >> 11) * _INV_2_53
