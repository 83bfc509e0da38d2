"""Your own PCN in one command: a scenario built from NHS England's open practice-level data.

`from_practices` reads the files analysts already download (their layouts and sources are in
`pcnsim.practice_files`) and builds a scenario for one PCN, a list of practices, or every PCN of an ICB
or sub-ICB location:

* **List size and age-sex profile** - each practice's ``list_size`` is the sum of its male and female
  counts over the 20 published 5-year bands of "Patients Registered at a GP Practice"
  (``gp-reg-pat-prac-quin-age.csv``), and its ``age_sex_table`` holds those counts unchanged,
  ``{lower age of band: [males, females]}``; the ``95+`` band runs to ``population.max_age``. No rounding
  is needed: the engine draws ages in proportion to the table, whatever its scale. A band missing from
  the file counts 0.
* **Deprivation mix** - from OHID Fingertips' practice IMD score (indicator 93553, "Deprivation score
  (IMD 2019)"; a practice's score is the population-weighted mean of the scores of the areas its patients
  live in, so its list spans several quintiles). Scores are ranked into deciles, 1 = most deprived, over
  every GP practice in the export (an England-wide export makes them national deciles); an export of a
  decile indicator is used as it is. Decile d puts 0.6 of the list in quintile q = ceil(d / 2), 0.3 in
  the neighbouring quintile on d's side (more deprived for odd d, less for even d) and 0.1 in the other
  neighbour; a share that would fall beyond quintile 1 or 5 stays in q. The shares are exact tenths, so
  they sum to 1. The spread is a starting assumption to be checked against patients-by-LSOA data, not
  evidence.
* **Practice staff** - GP and nurse FTE per practice from the "General Practice Workforce" practice-level
  file when given (``TOTAL_GP_EXTGL_FTE`` or ``TOTAL_GP_FTE``, ``TOTAL_NURSES_FTE``), written to the
  practice's ``fte``; otherwise the national per-1,000 defaults apply.
* **Network (PCN-funded) staff** - from the baseline's ``workforce.pcn_fte_per_1000``: each PCN gets FTE
  in proportion to its list size, so network capacity per patient matches the baseline's.
* **Codes** - each practice's ODS code goes to ``ods_code`` and each PCN's code to ``code``, so every results
  table can be joined back to NHS data.
* **Everything else** - behaviour, needs, access, costs and the rest - comes from the embedded calibrated
  baseline (``pcnsim/data/baseline.yaml``).

Every default used in place of missing data is reported as one note (the CLI prints them on stderr).

Worked example, with the synthetic files shipped for the tests::

    >>> from pcnsim.practice_data import from_practices
    >>> built = from_practices("tests/data/gp-reg-pat-prac-quin-age.csv",
    ...                        mapping="tests/data/gp-reg-pat-prac-map.csv", pcn="U00001",
    ...                        deprivation="tests/data/fingertips-gp-imd.csv")
    >>> built.scenario.n_patients == sum(p["list_size"] for p in built.data["pcns"][0]["practices"])
    True
    >>> path = built.write("my_pcn.yaml")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from . import atomic
from .practice_files import (
    Deprivation,
    MappingRow,
    PracticeDataError,
    read_deprivation,
    read_mapping,
    read_registered,
    read_workforce,
    select,
)
from .scenario import DEFAULT_SCENARIO, Scenario, from_dict, load, load_raw

SPREAD_TENTHS = (6, 3, 1)
"""Tenths of a practice's list in its own quintile, the neighbour on its decile's side, the other neighbour."""
EVEN_MIX = [0.2] * 5
NATIONAL_PRACTICES = 1000
"""Fewer GP practices than this in a deprivation export: its deciles are local, not national (England ~6,300)."""


@dataclass
class Built:
    """A built scenario: the validated `scenario`, the plain `data` written as YAML, the `notes` on every
    default used in place of missing data, and the `sources` read."""

    scenario: Scenario
    data: dict
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def header(self) -> str:
        lines = [f"Built by `pcnsim scenario from-practices` (pcnsim.practice_data) on {date.today():%Y-%m-%d} from:",
                 *[f"  {s}" for s in self.sources],
                 "List sizes and age_sex_table: the registered file's counts, [males, females] by 5-year band "
                 "(95+ runs to population.max_age).",
                 "Deprivation mix: IMD decile d -> 0.6 in quintile ceil(d/2), 0.3 next on d's side, 0.1 on the "
                 "other (pcnsim/practice_data.py).",
                 "Network staff: workforce.pcn_fte_per_1000 x each PCN's list size / 1,000.",
                 *(["Defaults used for missing data:"] + [f"  {n}" for n in self.notes] if self.notes else []),
                 "Everything else: the embedded calibrated baseline (pcnsim/data/baseline.yaml)."]
        return "".join(f"# {line}\n" for line in lines)

    def to_yaml(self) -> str:
        return self.header() + yaml.dump(self.data, Dumper=_FlowListDumper, sort_keys=False, allow_unicode=True,
                                         width=120)

    def write(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the scenario YAML; an existing file is kept unless `overwrite`."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise PracticeDataError(path, "", "already exists; choose another --out or pass --overwrite")
        if path.is_dir():
            raise PracticeDataError(path, "", "is a directory; --out must be a .yaml file")
        atomic.write_text(path, self.to_yaml())
        return path


class _FlowListDumper(yaml.SafeDumper):
    """Lists of numbers on one line ([males, females], deprivation mixes); everything else in block style."""


def _represent_list(dumper: yaml.SafeDumper, data: list):
    flow = all(isinstance(x, (int, float)) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_FlowListDumper.add_representer(list, _represent_list)


def decile_mix(decile: int) -> list[float]:
    """Share of a practice's list in each quintile (1 = most deprived first) for its IMD decile."""
    if not 1 <= decile <= 10:
        raise ValueError(f"decile must be 1-10, got {decile}")
    q = (decile + 1) // 2 - 1  # 0-based quintile
    own, near, far = SPREAD_TENTHS
    near_q, far_q = (q - 1, q + 1) if decile % 2 == 1 else (q + 1, q - 1)
    tenths = [0] * 5
    tenths[q] += own
    tenths[near_q if 0 <= near_q < 5 else q] += near
    tenths[far_q if 0 <= far_q < 5 else q] += far
    return [t / 10 for t in tenths]


def score_deciles(scores: dict[str, float]) -> dict[str, int]:
    """IMD decile of each area by its score among all the areas given: 1 = the most deprived tenth."""
    ordered = sorted(scores, key=lambda c: (-scores[c], c))
    n = len(ordered)
    return {code: min(10, math.ceil(10 * (i + 1) / n)) for i, code in enumerate(ordered)}


def from_practices(registered: str | Path, mapping: str | Path | None = None, *, pcn: str | None = None,
                   practices: list[str] | None = None, icb: str | None = None,
                   deprivation: str | Path | None = None, workforce: str | Path | None = None,
                   name: str | None = None) -> Built:
    """Build a scenario for one PCN (`pcn`, a PCN code), a list of ODS practice codes (`practices`) or every
    PCN of an ICB or sub-ICB location (`icb`); `mapping` (gp-reg-pat-prac-map.csv) is needed for `pcn` and
    `icb`. Raises `PracticeDataError` (one line: file, column or code, what is allowed) on a bad file."""
    chosen = [k for k, v in (("pcn", pcn), ("practices", practices), ("icb", icb)) if v]
    if len(chosen) != 1:
        raise ValueError("give exactly one of pcn, practices or icb")
    if mapping is None and not practices:
        raise ValueError(f"selecting by {chosen[0]} needs the mapping file (gp-reg-pat-prac-map.csv)")
    notes: list[str] = []
    sources = [f"registered patients: {registered}"]
    rows = _selection(mapping, pcn, practices, icb, sources)
    codes = [r.practice for r in rows]
    reg = read_registered(registered, codes)
    if reg.extract_date:
        sources[0] += f" (EXTRACT_DATE {reg.extract_date})"
    for code, total in reg.totals.items():
        banded = sum(m + f for m, f in reg.counts[code].values())
        if total != banded:
            notes.append(f"list size: {code} has {total:,} patients in its ALL row of {registered} but {banded:,} "
                         "by sex and band; the list size is the banded sum")
    mixes = _deprivation_mixes(deprivation, codes, notes, sources)
    staff = _practice_staff(workforce, codes, notes, sources)

    base = load(DEFAULT_SCENARIO)
    groups: dict[tuple[str, str], list[MappingRow]] = {}
    for r in rows:
        groups.setdefault((r.pcn, r.pcn_name), []).append(r)
    pcns = []
    for (code, pcn_name), members in groups.items():
        built_practices = []
        for r in members:
            table = reg.counts[r.practice]
            entry: dict = {"name": f"{r.practice_name} ({r.practice})" if r.practice_name else r.practice,
                           "ods_code": r.practice,
                           "list_size": sum(m + f for m, f in table.values()),
                           "deprivation_mix": mixes[r.practice]}
            if staff.get(r.practice):
                entry["fte"] = staff[r.practice]
            entry["age_sex_table"] = {lo: [m, f] for lo, (m, f) in sorted(table.items())}
            built_practices.append(entry)
        label = (f"{pcn_name} ({code})" if pcn_name else code) if code else (name or "Own PCN")
        pcns.append({"name": label, **({"code": code} if code else {}), "practices": built_practices})
    per_1000 = sum(base.workforce.pcn_fte_per_1000.values())
    notes.append(f"network staff: no per-PCN figures are read; PCN-funded staff at the baseline's {per_1000:.3g} "
                 "FTE per 1,000 patients (workforce.pcn_fte_per_1000)")

    data = load_raw(DEFAULT_SCENARIO)
    data.pop("extends", None)
    what = pcn or icb or ", ".join(codes)
    data["name"] = _slug(name or what)
    data["description"] = (f"{name or what}: {len(codes)} practices (ODS {', '.join(codes)}) in {len(pcns)} PCN(s) "
                           f"({', '.join(c for c, _ in groups if c) or 'no PCN code'}), built from open practice "
                           "data.")
    data["pcns"] = pcns
    scenario = from_dict(data, f"scenario built from {registered}")
    return Built(scenario, data, notes, sources)


def _selection(mapping, pcn, practices, icb, sources) -> list[MappingRow]:
    wanted = [c.strip().upper() for c in practices or [] if c.strip()]
    if mapping is None:
        return [MappingRow(c, "", "", "") for c in dict.fromkeys(wanted)]
    table, path = read_mapping(mapping)
    sources.append(f"practice-to-PCN mapping: {mapping}")
    return select(table, path, pcn=pcn.strip().upper() if pcn else None, icb=icb.strip().upper() if icb else None,
                  practices=list(dict.fromkeys(wanted)) if wanted else None)


def _deprivation_mixes(path, codes: list[str], notes: list[str], sources: list[str]) -> dict[str, list[float]]:
    if path is None:
        notes.append("deprivation: no --deprivation file; every practice takes the even mix 0.2 in each quintile")
        return {c: list(EVEN_MIX) for c in codes}
    dep: Deprivation = read_deprivation(path, codes)
    sources.append(f"deprivation: {path} ({dep.indicator or 'Value'}, {dep.period or 'one period'})")
    if dep.kind == "decile":
        deciles = {c: int(v) for c, v in dep.values.items()}
    else:
        deciles = score_deciles(dep.values)
        if dep.n_areas < NATIONAL_PRACTICES:
            notes.append(f"deprivation: IMD scores ranked into deciles among the {dep.n_areas} GP practices of "
                         f"{path}, not nationally (an England-wide export has ~6,300)")
    notes.extend(f"deprivation: {c} has no value in {path}; it takes the even mix 0.2 in each quintile"
                 for c in dep.missing)
    return {c: decile_mix(deciles[c]) if c in deciles else list(EVEN_MIX) for c in codes}


def _practice_staff(path, codes: list[str], notes: list[str], sources: list[str]) -> dict[str, dict[str, float]]:
    defaults = load(DEFAULT_SCENARIO).workforce.practice_fte_per_1000
    per_1000 = ", ".join(f"{r} {v:g}" for r, v in defaults.items())
    if path is None:
        notes.append(f"practice staff: no --workforce file; FTE per 1,000 patients from the defaults ({per_1000})")
        return {}
    fte, used = read_workforce(path, codes)
    sources.append(f"workforce: {path} ({', '.join(f'{r} <- {c}' for r, c in used.items())})")
    for c in codes:
        lacking = [r for r in used if r not in fte.get(c, {})]
        if c not in fte:
            notes.append(f"practice staff: {c} is not in {path}; FTE per 1,000 from the defaults ({per_1000})")
        elif lacking:
            notes.append(f"practice staff: {c} has no figure for {', '.join(used[r] for r in lacking)} in {path}; "
                         f"{', '.join(lacking)} FTE per 1,000 from the defaults")
    others = [r for r in defaults if r not in used]
    if others:
        notes.append(f"practice staff: {', '.join(others)} not in the workforce columns read; FTE per 1,000 from "
                     "the defaults")
    return {c: {r: round(v, 3) for r, v in f.items()} for c, f in fte.items()}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "own_pcn"
