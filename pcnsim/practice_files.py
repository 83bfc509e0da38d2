"""Readers for the public practice-level files that describe a real PCN, each checked against its published layout.

Each reader returns plain Python data and raises `PracticeDataError` (one line: the file, the column or
code, and what is allowed) on a file that does not match its layout. The layouts, and where they are
documented:

* NHS England (formerly NHS Digital), "Patients Registered at a GP Practice", monthly; file
  ``gp-reg-pat-prac-quin-age.csv`` (practice and higher levels by sex and 5-year age band). Columns
  ``PUBLICATION, EXTRACT_DATE, ORG_TYPE, ORG_CODE, ONS_CODE, POSTCODE, SEX, AGE_GROUP_5,
  NUMBER_OF_PATIENTS``; ``ORG_TYPE`` is ``GP`` for practice rows (``ORG_CODE`` is then the ODS practice
  code); ``SEX`` is ``ALL``, ``MALE`` or ``FEMALE``; ``AGE_GROUP_5`` is ``0_4``, ``5_9``, ..., ``90_94``,
  ``95+`` or ``ALL``. Source: the publication's metadata page
  (https://digital.nhs.uk/data-and-information/publications/statistical/patients-registered-at-a-gp-practice/metadata),
  cross-checked against public analysis code that reads the file (column order and band codes).
* Same publication, file ``gp-reg-pat-prac-map.csv`` (practice to PCN, sub-ICB location, ICB and region).
  Columns ``PUBLICATION, EXTRACT_DATE, PRACTICE_CODE, PRACTICE_NAME, PRACTICE_POSTCODE, PCN_CODE,
  PCN_NAME, ONS_SUB_ICB_LOCATION_CODE, SUB_ICB_LOCATION_CODE, SUB_ICB_LOCATION_NAME, ONS_ICB_CODE,
  ICB_CODE, ICB_NAME, ONS_COMM_REGION_CODE, COMM_REGION_CODE, COMM_REGION_NAME, SUPPLIER_NAME``.
  Source: the same metadata page (section gp-reg-pat-prac-map). Files before July 2022 named the sub-ICB
  location a CCG (``CCG_CODE``, ``ONS_CCG_CODE``); those columns are accepted too.
* OHID Fingertips data export (National General Practice Profiles), e.g. indicator 93553 "Deprivation
  score (IMD 2019)" for area type "GPs". Columns ``Indicator ID, Indicator Name, Parent Code, Parent Name,
  Area Code, Area Name, Area Type, Sex, Age, Category Type, Category, Time period, Value, Lower CI 95.0
  limit, Upper CI 95.0 limit, Lower CI 99.8 limit, Upper CI 99.8 limit, Count, Denominator, Value note,
  Recent Trend, Compared to England value or percentiles, Compared to <parent> value or percentiles, Time
  period Sortable, New data, Compared to goal`` (newer exports add ``Time period range``). Source: the
  header writer of the Fingertips export (``CsvBuilderIndicatorDataHeaderWriter`` in the open-source
  Fingertips code, PholioVisualisation.Export) and the fingertipsR documentation.
* NHS England, "General Practice Workforce", practice-level CSV. Columns used: ``PRAC_CODE``,
  ``TOTAL_GP_EXTGL_FTE`` (GPs excluding trainees and locums; older files ``TOTAL_GP_FTE`` only) and
  ``TOTAL_NURSES_FTE``; suppressed or missing values are written ``ND``, ``NA``, ``EST``, ``NS`` or ``.``.
  Source: public analysis code reading the published practice-level files (column names and markers);
  https://digital.nhs.uk/data-and-information/publications/statistical/general-and-personal-medical-services.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

import pandas as pd

from .scenario import ScenarioError

AGE_BANDS: dict[str, int] = {f"{lo}_{lo + 4}": lo for lo in range(0, 95, 5)} | {"95+": 95}
"""Published 5-year age band code -> lower age of the band (the scenario's age_sex_table key)."""
SEXES = ("MALE", "FEMALE")
MISSING_MARKERS = {"", "ND", "NA", "EST", "NS", ".", "N/A"}
"""Workforce-file values meaning 'no figure' (not an error): the practice falls back to the default."""


class PracticeDataError(ScenarioError):
    """A public input file that does not match its published layout: names the file, the column or code,
    and what is allowed."""


@dataclass
class MappingRow:
    practice: str
    practice_name: str
    pcn: str
    pcn_name: str


@dataclass
class Registered:
    """Counts by practice: {ODS code: {lower age of band: [males, females]}} and the extract date(s)."""

    counts: dict[str, dict[int, list[int]]]
    extract_date: str = ""
    totals: dict[str, int] = field(default_factory=dict)
    """The file's own SEX ALL, AGE_GROUP_5 ALL count per practice, where it has one."""


@dataclass
class Deprivation:
    """Per practice either an IMD score or a decile (1 = most deprived), from one indicator and period."""

    kind: str  # "score" or "decile"
    values: dict[str, float]
    indicator: str = ""
    period: str = ""
    n_areas: int = 0
    missing: list[str] = field(default_factory=list)


def read_csv(path: str | Path) -> pd.DataFrame:
    """Every cell as text (codes keep their leading zeros); a zip holding one CSV is read too."""
    path = Path(path)
    if not path.exists():
        raise PracticeDataError(path, "", "file not found")
    if path.is_dir():
        raise PracticeDataError(path, "", "is a directory, expected a CSV file")
    with open(path, "rb") as f:
        head = f.read(4096)
    is_zip = zipfile.is_zipfile(path)
    if b"\x00" in head and not is_zip:
        raise PracticeDataError(path, "", "is not a CSV file (binary content); expected the published .csv")
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding,
                             compression="zip" if is_zip else None)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, zipfile.BadZipFile) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PracticeDataError(path, "", f"is not a CSV file ({reason}); expected the published .csv") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def require(df: pd.DataFrame, path: Path, columns: tuple[str, ...], layout: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        found = ", ".join(list(df.columns)[:12]) + (" ..." if len(df.columns) > 12 else "")
        raise PracticeDataError(path, missing[0], f"column missing; the {layout} layout needs "
                                f"{', '.join(columns)} (found: {found})")


def _one_of(codes: list[str] | set[str], sample: int = 6) -> str:
    codes = sorted(codes)
    return ", ".join(codes[:sample]) + (f" ... ({len(codes)} in all)" if len(codes) > sample else "")


def unknown_code(path: Path, column: str, code: str, known: set[str]) -> PracticeDataError:
    close = get_close_matches(code, sorted(known), n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return PracticeDataError(path, column, f"no row has {column} {code!r}; {hint}known: {_one_of(known)}")


# --------------------------------------------------------------------------------------------------
# Patients Registered at a GP Practice
# --------------------------------------------------------------------------------------------------

REGISTERED_COLUMNS = ("ORG_CODE", "SEX", "AGE_GROUP_5", "NUMBER_OF_PATIENTS")
MAPPING_COLUMNS = ("PRACTICE_CODE", "PCN_CODE")
AREA_COLUMNS = ("SUB_ICB_LOCATION_CODE", "ICB_CODE", "ONS_SUB_ICB_LOCATION_CODE", "ONS_ICB_CODE",
                "CCG_CODE", "ONS_CCG_CODE")


def read_registered(path: str | Path, practices: list[str]) -> Registered:
    """Male and female counts by 5-year band for the given practices (ORG_TYPE GP rows)."""
    path = Path(path)
    df = read_csv(path)
    require(df, path, REGISTERED_COLUMNS, "gp-reg-pat-prac-quin-age")
    if "ORG_TYPE" in df.columns:
        df = df[df["ORG_TYPE"].str.strip().str.upper() == "GP"]
    df = df.assign(ORG_CODE=df["ORG_CODE"].str.strip().str.upper())
    known = set(df["ORG_CODE"])
    for code in practices:
        if code not in known:
            raise unknown_code(path, "ORG_CODE", code, known)
    rows = df[df["ORG_CODE"].isin(practices)]
    sex = rows["SEX"].str.strip().str.upper()
    band = rows["AGE_GROUP_5"].str.strip().str.upper().str.replace("-", "_", regex=False)
    bad_sex = sorted(set(sex) - {"ALL", *SEXES})
    if bad_sex:
        raise PracticeDataError(path, "SEX", f"unknown value {bad_sex[0]!r}; allowed: ALL, MALE, FEMALE")
    bad_band = sorted(set(band) - set(AGE_BANDS) - {"ALL"})
    if bad_band:
        raise PracticeDataError(path, "AGE_GROUP_5", f"unknown age band {bad_band[0]!r}; allowed: "
                                f"{', '.join(AGE_BANDS)}, ALL")
    keep = sex.isin(SEXES) & (band != "ALL")
    counts: dict[str, dict[int, list[int]]] = {c: {lo: [0, 0] for lo in AGE_BANDS.values()} for c in practices}
    seen: set[tuple[str, str, str]] = set()
    for line, code, s, b, value in zip(rows.index[keep], rows["ORG_CODE"][keep], sex[keep], band[keep],
                                       rows["NUMBER_OF_PATIENTS"][keep], strict=True):
        key = (code, s, b)
        if key in seen:
            raise PracticeDataError(path, "NUMBER_OF_PATIENTS", f"{code} has two rows for SEX {s} AGE_GROUP_5 "
                                    f"{b}; pass one month's file")
        seen.add(key)
        counts[code][AGE_BANDS[b]][SEXES.index(s)] = _count(path, value, line)
    for code in practices:
        if not any(key[0] == code for key in seen):
            raise PracticeDataError(path, "SEX", f"{code} has no MALE or FEMALE rows by AGE_GROUP_5; the "
                                    "practice file by sex and 5-year band is needed (gp-reg-pat-prac-quin-age)")
        if sum(m + f for m, f in counts[code].values()) == 0:
            raise PracticeDataError(path, "NUMBER_OF_PATIENTS", f"{code} has no registered patients")
    dates = sorted(set(rows["EXTRACT_DATE"].str.strip())) if "EXTRACT_DATE" in rows.columns else []
    whole = rows[(sex == "ALL") & (band == "ALL")]
    totals = {code: _count(path, value, line)
              for line, code, value in zip(whole.index, whole["ORG_CODE"], whole["NUMBER_OF_PATIENTS"], strict=True)}
    return Registered(counts, ", ".join(d for d in dates if d), totals)


def _count(path: Path, value: str, line: int) -> int:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0 or number != int(number):
        raise PracticeDataError(path, "NUMBER_OF_PATIENTS", f"row {line + 2}: {text!r} is not a count; allowed: "
                                "whole numbers 0 or more")
    return int(number)


def read_mapping(path: str | Path) -> tuple[pd.DataFrame, Path]:
    """The practice-to-PCN mapping with codes upper-cased and blanks where optional columns are absent."""
    path = Path(path)
    df = read_csv(path)
    require(df, path, MAPPING_COLUMNS, "gp-reg-pat-prac-map")
    for col in ("PRACTICE_CODE", "PCN_CODE", *AREA_COLUMNS):
        if col in df.columns:
            df[col] = df[col].str.strip().str.upper()
    for col in ("PRACTICE_NAME", "PCN_NAME"):
        if col not in df.columns:
            df[col] = ""
    return df, path


def select(mapping: pd.DataFrame, path: Path, pcn: str | None = None, icb: str | None = None,
           practices: list[str] | None = None) -> list[MappingRow]:
    """Rows of the mapping for one PCN code, one ICB or sub-ICB code, or a list of ODS practice codes."""
    if pcn is not None:
        rows = mapping[mapping["PCN_CODE"] == pcn]
        if rows.empty:
            raise unknown_code(path, "PCN_CODE", pcn, set(mapping["PCN_CODE"]))
    elif icb is not None:
        cols = [c for c in AREA_COLUMNS if c in mapping.columns]
        if not cols:
            raise PracticeDataError(path, "SUB_ICB_LOCATION_CODE", "column missing; selecting by ICB needs "
                                    f"one of {', '.join(AREA_COLUMNS)}")
        rows = mapping[mapping[cols].eq(icb).any(axis=1)]
        if rows.empty:
            known = set().union(*(set(mapping[c]) for c in cols[:2]))
            raise unknown_code(path, " or ".join(cols[:2]), icb, known)
    else:
        known = set(mapping["PRACTICE_CODE"])
        for code in practices or []:
            if code not in known:
                raise unknown_code(path, "PRACTICE_CODE", code, known)
        rows = mapping[mapping["PRACTICE_CODE"].isin(practices or [])]
    rows = rows.drop_duplicates("PRACTICE_CODE")
    return [MappingRow(r.PRACTICE_CODE, r.PRACTICE_NAME.strip(), r.PCN_CODE, r.PCN_NAME.strip())
            for r in rows.itertuples(index=False)]


# --------------------------------------------------------------------------------------------------
# Fingertips: practice deprivation
# --------------------------------------------------------------------------------------------------

FINGERTIPS_COLUMNS = ("Area Code", "Value")
IMD_NAME = re.compile(r"deprivation (score|decile)|index of multiple deprivation|\bimd", re.IGNORECASE)
"""Indicator names of the practice IMD score or decile (not the income-deprivation indices IDACI/IDAOPI)."""


def read_deprivation(path: str | Path, practices: list[str]) -> Deprivation:
    """IMD score (or decile) per practice from a Fingertips export: GP rows, persons, no category, the
    latest time period; from an export of several indicators, the IMD one of the newest edition."""
    path = Path(path)
    df = read_csv(path)
    require(df, path, FINGERTIPS_COLUMNS, "Fingertips data export")
    if "Area Type" in df.columns:
        df = df[df["Area Type"].str.strip().str.lower().isin({"gps", "gp", "gp practice", "gp practices"})]
    if "Category Type" in df.columns:
        df = df[df["Category Type"].str.strip() == ""]
    if "Sex" in df.columns:
        df = df[df["Sex"].str.strip().str.lower().isin({"persons", ""})]
    name = ""
    if "Indicator Name" in df.columns:
        names = sorted(set(df["Indicator Name"].str.strip()))
        dep = [n for n in names if IMD_NAME.search(n)]
        years = {n: max((int(y) for y in re.findall(r"(?:19|20)\d\d", n)), default=0) for n in dep}
        newest = [n for n in dep if years[n] == max(years.values(), default=0)]
        if len(newest) != 1:
            what = "no IMD indicator" if not dep else f"{len(newest)} IMD indicators of one edition"
            raise PracticeDataError(path, "Indicator Name", f"{what} for area type GPs; allowed: one indicator "
                                    "such as 'Deprivation score (IMD 2019)' (found: "
                                    f"{'; '.join((dep or names)[:4]) or 'no GP rows'})")
        name = newest[0]  # an export of the whole profile may hold several IMD editions: the newest
        df = df[df["Indicator Name"].str.strip() == name]
    if df.empty:
        raise PracticeDataError(path, "Area Type", "no rows for area type 'GPs' (export the indicator for GP "
                                "practices)")
    period = ""
    sort_col = "Time period Sortable" if "Time period Sortable" in df.columns else "Time period"
    if sort_col in df.columns:
        latest = max(df[sort_col].str.strip())
        df = df[df[sort_col].str.strip() == latest]
        period = df["Time period"].iloc[0].strip() if "Time period" in df.columns else latest
    kind = "decile" if "decile" in name.lower() else "score"
    values: dict[str, float] = {}
    for line, code, text in zip(df.index, df["Area Code"].str.strip().str.upper(), df["Value"].str.strip(),
                                strict=True):
        if text == "":
            continue
        try:
            value = float(text)
        except ValueError:
            raise PracticeDataError(path, "Value", f"row {line + 2}: {text!r} is not a number; allowed: an IMD "
                                    "score (0 or more) or a decile 1-10, or blank") from None
        ok = 1 <= value <= 10 and value == int(value) if kind == "decile" else 0 <= value <= 100
        if not ok:
            allowed = "a whole decile 1-10" if kind == "decile" else "an IMD score between 0 and 100"
            raise PracticeDataError(path, "Value", f"row {line + 2}: {text} is out of range; allowed: {allowed}")
        if code in values:
            raise PracticeDataError(path, "Area Code", f"{code} has two rows for {name or 'the indicator'} in "
                                    f"{period or 'one period'}")
        values[code] = value
    missing = [c for c in practices if c not in values]
    return Deprivation(kind, values, name, period, len(values), missing)


# --------------------------------------------------------------------------------------------------
# General Practice Workforce (practice level)
# --------------------------------------------------------------------------------------------------

WORKFORCE_ROLES = {"gp": ("TOTAL_GP_EXTGL_FTE", "TOTAL_GP_FTE"), "nurse": ("TOTAL_NURSES_FTE",)}
"""Scenario role -> practice-level workforce columns, first found is used."""


def read_workforce(path: str | Path, practices: list[str]) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """FTE by role per practice where the file has a figure, and the column used for each role."""
    path = Path(path)
    df = read_csv(path)
    require(df, path, ("PRAC_CODE",), "General Practice Workforce practice-level")
    used = {role: next((c for c in cols if c in df.columns), "") for role, cols in WORKFORCE_ROLES.items()}
    if not any(used.values()):
        cols = [c for cs in WORKFORCE_ROLES.values() for c in cs]
        raise PracticeDataError(path, cols[0], f"column missing; FTE by role needs one of {', '.join(cols)}")
    df = df.assign(PRAC_CODE=df["PRAC_CODE"].str.strip().str.upper())
    df = df[df["PRAC_CODE"].isin(practices)]
    out: dict[str, dict[str, float]] = {}
    for line, row in df.iterrows():
        fte = {}
        for role, col in used.items():
            if not col:
                continue
            text = str(row[col]).strip()
            if text.upper() in MISSING_MARKERS:
                continue
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                raise PracticeDataError(path, col, f"row {line + 2}: {text!r} is not an FTE; allowed: numbers 0 or "
                                        f"more, or {', '.join(sorted(MISSING_MARKERS - {''}))} for no figure")
            fte[role] = value
        out[row["PRAC_CODE"]] = fte
    return out, {r: c for r, c in used.items() if c}
