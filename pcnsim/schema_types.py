"""The building blocks of the scenario schema: the strict base model and the value types its fields use.

Names of roles, needs, segments and settings are `Literal` types built from `pcnsim.vocab`, so pydantic
checks them (as mapping keys and list items) and the JSON Schema lists them as `enum`s for editors.
Every number must be finite: NaN or infinity in any field (dict values and tables included) is refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .vocab import MATCH_COLUMNS, NEEDS, ROLES, SEGMENTS, SETTINGS

RoleName = Literal[ROLES]
NeedName = Literal[NEEDS]
SegmentName = Literal[SEGMENTS]
ComplexSegmentName = Literal[SEGMENTS[1:]]
"""A needs segment other than 'well' (the remainder, which has no prevalence or extra onset of its own)."""
SettingName = Literal[SETTINGS]
ServiceName = Literal[MATCH_COLUMNS]

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Age = Annotated[int, Field(ge=0, le=120)]
Money = Annotated[float, Field(ge=0.0, le=1e7)]
"""GBP; at most ten million, so sums over a run's touchpoints or staff stay finite."""
FTE = Annotated[float, Field(ge=0.0, le=1e5)]
"""Whole-time equivalents of a role at one place."""
ODS_PATTERN = r"^[A-Z0-9]{3,10}$"


def _ods_code(code: str) -> str:
    if not re.fullmatch(ODS_PATTERN, code):
        raise ValueError("an ODS code is 3 to 10 capital letters and digits, as ODS publishes it (e.g. A81001)")
    return code


OdsCode = Annotated[str, AfterValidator(_ods_code), Field(json_schema_extra={"pattern": ODS_PATTERN})]
"""An NHS organisation code as ODS publishes it, capitals and digits: practice A81001, PCN U12345."""
Rate = Annotated[float, Field(ge=0.0, le=1e4)]
"""Episodes per person-year."""
Multiplier = Annotated[float, Field(ge=0.0, le=1000.0)]
"""A factor on a rate or probability; bounded so products of several stay finite."""
Weight = Annotated[float, Field(ge=0.0, le=1e6)]
"""A relative weight (shares are weight / sum of weights)."""
Count = Annotated[float, Field(ge=0.0, le=1e12)]
"""People in a band of a list profile (any scale)."""
ByQuintile = Annotated[list[Multiplier], Field(min_length=5, max_length=5)]
"""One value per deprivation quintile, most deprived first."""
ByLevel = Annotated[list[Probability], Field(min_length=4, max_length=4)]
"""One probability per complexity level 0-3."""
AgeBanded = dict[Age, float]
"""Piecewise-constant function of age: {lower age bound: value}; the first key must be 0."""
AgeSexTable = dict[Age, tuple[Count, Count]]
"""A list profile {lower age of band: [males, females]} (any scale, with some patients)."""


class Strict(BaseModel):
    """Base for every schema block: unknown keys are rejected, assignments are validated, numbers are finite."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


def check_age_banded(value: AgeBanded, lo: float = 0.0, hi: float | None = None, name: str = "") -> AgeBanded:
    """Bands sorted by age, the first at 0, every value within [lo, hi]; else a ValueError saying which (and
    `name`, the key of the table in its mapping, if given)."""
    where = f"{name}: " if name else ""
    if not value:
        raise ValueError(f"{where}needs at least one band, e.g. {{0: 1.0}}")
    keys = sorted(value)
    if keys[0] != 0:
        raise ValueError(f"{where}the first age band must start at 0")
    for k in keys:
        v = value[k]
        if v < lo or (hi is not None and v > hi):
            rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
            raise ValueError(f"{where}value {v} for ages {k}+ is outside the allowed range {rng}")
    return {k: float(value[k]) for k in keys}


def check_age_sex_table(value: dict) -> dict:
    """An age-sex table sorted by age, starting at 0, with a positive total (someone to draw)."""
    if not value or min(value) != 0:
        raise ValueError("the first age band must start at 0")
    if sum(m + f for m, f in value.values()) <= 0:
        raise ValueError("needs a positive total (some patients in some band)")
    return dict(sorted(value.items()))
