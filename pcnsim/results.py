"""Results of a run: weekly series, capacity use, per-patient yearly table, optional ledger; save and load.

On disk (a stable contract, docs/outputs.md):
    scenario.yaml            the fully resolved scenario, root seed, replicate seeds
    manifest.json            file list with SHA-256 checksums, wall time, seeds, provenance
    summary.parquet          replicate, year, metric, value
    series.parquet           replicate, week, week start, financial year, practice (or "all"), codes, metric,
                             value
    financial_years.parquet  the weekly counts summed by financial year
    patients_yearly.parquet  one row per replicate x patient x year
    capacity.parquet         replicate, week, unit, role, offered, used (slots)
    ledger.parquet           optional: one row per touchpoint
A directory is written to a temporary sibling first and swapped into place (`pcnsim.outdir`), so it is
either complete or absent, and it replaces only a directory pcnsim wrote. manifest.json also records each
file's size and table schema and its own checksum; `load` checks them all (`pcnsim.verify`).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from . import dates, dictionary, metrics, outdir, provenance
from . import verify as _verify
from .outdir import ResultsError
from .pages import empty_on_small_pages
from .scenario import Scenario, ScenarioError, from_dict, to_yaml
from .vocab import COUNTER_NAMES, ROLES, SETTINGS, WEEKLY_EVENT_NAMES

WEEKLY_METRICS = (*SETTINGS, *COUNTER_NAMES, *WEEKLY_EVENT_NAMES)
FILES = ("summary.parquet", "series.parquet", "financial_years.parquet", "patients_yearly.parquet",
         "capacity.parquet", "staff.parquet", "ledger.parquet")


@dataclass
class Results:
    """Everything one `run` produced, for one or more replicates of a scenario."""

    scenario: Scenario
    root_seed: int
    seeds: list[int]
    practice_names: list[str]
    unit_names: list[str]
    weekly: np.ndarray  # [replicate, week, practice, WEEKLY_METRICS]
    capacity_offered: np.ndarray  # [replicate, week, unit, role]
    capacity_used: np.ndarray
    # staff in post, FTE-years by replicate, reported year, unit and role (None for results saved without it)
    staff_fte: np.ndarray | None = None
    # the per-patient yearly table (empty if not kept), in pieces one under another: a run leaves one per
    # replicate, joined on first use of `patients` (`pcnsim run` summarises and saves them unjoined)
    patient_tables: list[pd.DataFrame] = field(default_factory=list)
    ledger: pd.DataFrame | None = None
    wall_seconds: float = 0.0
    patient_days: int = 0
    started: float | None = None  # when the run began (time.time()), for the manifest's provenance
    extra: dict = field(default_factory=dict)

    @property
    def replicates(self) -> int:
        return len(self.seeds)

    @property
    def patients(self) -> pd.DataFrame | None:
        """The per-patient yearly table: one row per replicate x patient x year (None if not kept)."""
        if len(self.patient_tables) > 1:
            self.patient_tables = [join_tables(self.patient_tables)]
        return self.patient_tables[0] if self.patient_tables else None

    # ---- tables --------------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Tidy yearly metrics: replicate, year, year_start, metric, value (see `pcnsim.metrics`)."""
        if "summary" not in self.extra:
            costs = self.scenario.costs.per_contact
            pieces = [metrics.summary_table(t, costs) for t in self.patient_tables or [self._practice_years()]]
            table = pieces[0]
            if len(pieces) > 1:  # as from the joined table: by replicate and year
                table = pd.concat(pieces, ignore_index=True).sort_values(["replicate", "year"], kind="stable",
                                                                          ignore_index=True)
            starts = dates.year_starts(self.scenario.simulation, int(table["year"].max()) + 1 if len(table) else 0)
            table.insert(2, "year_start", dictionary.dates(starts[table["year"].to_numpy()]))
            self.extra["summary"] = table
        return self.extra["summary"]

    def _week_columns(self, week: np.ndarray) -> dict:
        """The date columns of a weekly table's rows, from their week numbers: week_start, financial_year."""
        starts = dates.week_starts(self.scenario.simulation, self.weekly.shape[1])
        return {"week_start": dictionary.dates(starts[week]),
                "financial_year": pd.Categorical(dates.financial_years(starts)).take(week)}

    def _code_columns(self, rows: np.ndarray, pools: bool) -> dict:
        """The ODS-code columns of rows given by place index: the practices, then (`pools`) each PCN's network
        pool, then one more (a shared pool, or a series' 'all'); a practice's code (none for the others) and
        its PCN's."""
        ods = [p.ods_code for pcn in self.scenario.pcns for p in pcn.practices]
        pcn_codes = [pcn.code for pcn in self.scenario.pcns for _ in pcn.practices]
        if pools:
            ods += [None] * len(self.scenario.pcns)
            pcn_codes += [pcn.code for pcn in self.scenario.pcns]
        return {"ods_code": dictionary.codes([*ods, None], rows),
                "pcn_code": dictionary.codes([*pcn_codes, None], rows)}

    def _practice_years(self) -> pd.DataFrame:
        """Without a per-patient table: one row per replicate x year x practice from the weekly tallies
        (metrics that need individuals, like the zero-contact share, come out as NaN)."""
        reps, weeks, n_p, _ = self.weekly.shape
        years = weeks // 52
        counts = self.weekly[:, : years * 52].reshape(reps, years, 52, n_p, -1).sum(axis=2)
        names = list(WEEKLY_METRICS)
        sizes = [p.list_size for pcn in self.scenario.pcns for p in pcn.practices]
        rows = []
        for r in range(reps):
            for y in range(years):
                for p in range(n_p):
                    row = dict(zip(names, counts[r, y, p].tolist(), strict=True))
                    row.update(replicate=r, year=y, practice=self.practice_names[p], age=-1,
                               registered_days=sizes[p] * 364)
                    rows.append(row)
        df = pd.DataFrame(rows)
        df["primary_care_contacts"] = metrics.primary_care_contacts(df)
        return df

    def staff_costs(self) -> pd.DataFrame:
        """Staff in post and what they cost, by replicate, reported year, unit and role: FTE (FTE-years in the
        year) and cost (GBP a year: FTE x the role's employment cost per FTE-year); with each PCN's project
        manager (`levers.delivery`) at its network pool as role 'project_manager'."""
        staff = np.zeros((self.replicates, 0, len(self.unit_names), len(ROLES))) if self.staff_fte is None \
            else self.staff_fte
        reps, years, units, roles = staff.shape
        cost = np.array([self.scenario.workforce.roles[r].cost_per_fte_year for r in ROLES])
        unit = np.tile(np.repeat(np.arange(units), roles), reps * years)
        table = pd.DataFrame({
            "replicate": np.repeat(np.arange(reps), years * units * roles),
            "year": np.tile(np.repeat(np.arange(years), units * roles), reps),
            "unit": np.array(self.unit_names, object)[unit],
            "role": np.tile(np.array(ROLES, object), reps * years * units),
            "fte": staff.reshape(-1),
            "cost": (staff * cost).reshape(-1),
        })
        delivery = self.scenario.levers.delivery
        if delivery.project_manager_fte > 0 and years:
            n_p = len(self.practice_names)
            pools = range(n_p, n_p + len(self.scenario.pcns))
            managers = pd.DataFrame([(r, y, self.unit_names[u]) for r in range(reps) for y in range(years)
                                     for u in pools], columns=["replicate", "year", "unit"]).assign(
                role="project_manager", fte=delivery.project_manager_fte,
                cost=delivery.project_manager_fte * delivery.project_manager_cost_per_fte_year)
            table = pd.concat([table, managers], ignore_index=True)
            unit = np.concatenate([unit, np.tile(np.array(pools), reps * years)])
        starts = dates.year_starts(self.scenario.simulation, years)
        table = table.assign(year_start=dictionary.dates(starts[table["year"].to_numpy()]),
                             **self._code_columns(unit, pools=True))
        return table[[c.name for c in dictionary.columns("staff.parquet")]]

    def headline(self) -> pd.DataFrame:
        """Mean and 95% interval over replicates of the yearly metrics (years pooled per replicate)."""
        per_rep = self.summary().groupby(["metric", "replicate"])["value"].mean()
        rows = []
        for metric in per_rep.index.get_level_values(0).unique():
            mean, lo, hi = metrics.interval(per_rep.loc[metric].to_numpy())
            rows.append((metric, mean, lo, hi))
        df = pd.DataFrame(rows, columns=["metric", "mean", "low_95", "high_95"]).set_index("metric")
        order = [m for m in metrics.HEADLINE if m in df.index] + [m for m in df.index if m not in metrics.HEADLINE]
        return df.loc[order]

    def to_dataframe(self) -> pd.DataFrame:
        """Weekly series, tidy: replicate, week, practice (or 'all'), metric, value."""
        reps, weeks, n_practices, n_metrics = self.weekly.shape
        all_practices = self.weekly.sum(axis=2, keepdims=True)
        data = np.concatenate([self.weekly, all_practices], axis=2)
        names = [*self.practice_names, "all"]
        per_week = (n_practices + 1) * n_metrics
        # practice and metric as categories: as strings, 100 replicates x 5 years took ~0.8 GB to write
        week = np.tile(np.repeat(np.arange(weeks), per_week), reps)
        practice = np.tile(np.repeat(np.arange(n_practices + 1), n_metrics), reps * weeks)
        return pd.DataFrame({
            "replicate": np.repeat(np.arange(reps), weeks * per_week),
            "week": week,
            **self._week_columns(week),
            "practice": _labels(names, practice),
            **self._code_columns(practice, pools=False),
            "metric": _labels(list(WEEKLY_METRICS), np.tile(np.arange(n_metrics), reps * weeks * (n_practices + 1))),
            "value": data.reshape(-1),
        })

    def financial_years(self) -> pd.DataFrame:
        """The weekly counts summed by NHS financial year: replicate, financial_year, weeks (how many of the
        year's weeks the run covers: fewer than 52 or 53 at either end of a run), practice (or 'all'), codes,
        metric, value. A week counts in the financial year it starts in."""
        reps, weeks, n_practices, n_metrics = self.weekly.shape
        years = dates.financial_years(dates.week_starts(self.scenario.simulation, weeks))
        labels = list(dict.fromkeys(years))
        which = np.array([labels.index(y) for y in years])
        totals = np.zeros((reps, len(labels), n_practices, n_metrics), self.weekly.dtype)
        np.add.at(totals, (slice(None), which), self.weekly)
        data = np.concatenate([totals, totals.sum(axis=2, keepdims=True)], axis=2)
        per_year = (n_practices + 1) * n_metrics
        year = np.tile(np.repeat(np.arange(len(labels)), per_year), reps)
        practice = np.tile(np.repeat(np.arange(n_practices + 1), n_metrics), reps * len(labels))
        return pd.DataFrame({
            "replicate": np.repeat(np.arange(reps), len(labels) * per_year),
            "financial_year": pd.Categorical(labels).take(year),
            "weeks": np.bincount(which)[year],
            "practice": _labels([*self.practice_names, "all"], practice),
            **self._code_columns(practice, pools=False),
            "metric": _labels(list(WEEKLY_METRICS),
                              np.tile(np.arange(n_metrics), reps * len(labels) * (n_practices + 1))),
            "value": data.reshape(-1),
        })

    def capacity(self) -> pd.DataFrame:
        """Slots offered and used by replicate, week (with its start date and financial year), unit (with its
        ODS codes) and role; rows with no capacity dropped."""
        reps, weeks, _, _ = self.capacity_offered.shape
        idx = pd.MultiIndex.from_product([range(reps), range(weeks), self.unit_names, ROLES],
                                         names=["replicate", "week", "unit", "role"])
        df = pd.DataFrame({"offered": self.capacity_offered.reshape(-1), "used": self.capacity_used.reshape(-1)},
                          index=idx).reset_index()
        kept = self.capacity_offered.reshape(-1) > 0
        unit = np.tile(np.repeat(np.arange(len(self.unit_names)), len(ROLES)), reps * weeks)[kept]
        df = df[kept].reset_index(drop=True)
        df = df.assign(**self._week_columns(df["week"].to_numpy()), **self._code_columns(unit, pools=True))
        return df[[c.name for c in dictionary.columns("capacity.parquet")]]

    def workforce(self) -> pd.DataFrame:
        """Per role and level (practices, network pools, a shared pool): slots offered and used per year
        (replicates averaged), utilisation, and overflow per year: requests a practice sent to the network
        for a role it holds, and requests no unit could book for their role (GP fall-back or unserved)."""
        n_p = len(self.practice_names)
        years = self.weekly.shape[1] / 52 * self.replicates
        level = np.array(["practice" if u < n_p else "shared pool" if name.endswith("(shared pool)") else
                          "network pool" for u, name in enumerate(self.unit_names)])
        offered = self.capacity_offered.sum(axis=(0, 1))
        used = self.capacity_used.sum(axis=(0, 1))
        weekly = self.weekly.sum(axis=(0, 1, 2))
        rows = []
        for r, role in enumerate(ROLES):
            to_network = weekly[WEEKLY_METRICS.index(f"overflow_to_network_{role}")] / years
            unplaced = weekly[WEEKLY_METRICS.index(f"unplaced_{role}")] / years
            for lv in ("practice", "network pool", "shared pool"):
                o, u = offered[level == lv, r].sum() / years, used[level == lv, r].sum() / years
                if o > 0:
                    rows.append({"role": role, "level": lv, "slots_offered_per_year": o, "slots_used_per_year": u,
                                 "utilisation": u / o, "overflow_to_network_per_year": to_network,
                                 "unplaced_requests_per_year": unplaced})
        return pd.DataFrame(rows)

    # ---- disk ------------------------------------------------------------------------------------------
    def save(self, path: str | Path, overwrite: bool = False, claim: outdir.Claim | None = None) -> Path:
        """Write the results directory atomically (a temporary sibling, then swapped in; `pcnsim.outdir`).

        An existing non-empty directory is replaced only with overwrite=True and only if pcnsim wrote it.
        claim: the output already claimed by the caller (the command line claims it before simulating)."""
        return outdir.write_folder(Path(path), self._write, overwrite, claim, what="results directory")

    def _write(self, d: Path) -> None:
        # The per-patient table, the largest file by far (~3.3 GB of columns for 100 replicates x 5 years: ~10 s,
        # encoded in one thread by pyarrow, which lets go of the GIL), is written from the replicates' tables,
        # unjoined (a copy of their list: a join, in `patients`, empties the list it joins), while the other
        # tables are made.
        with ThreadPoolExecutor(max_workers=1) as pool:
            patients = (pool.submit(_write_long, list(self.patient_tables), d / "patients_yearly.parquet")
                        if self.patient_tables else None)
            _write_long([self.summary()], d / "summary.parquet")
            _write_long([self.to_dataframe()], d / "series.parquet")
            _write_long([self.financial_years()], d / "financial_years.parquet")
            _write_long([self.capacity()], d / "capacity.parquet")
            if self.staff_fte is not None:
                _write_long([self.staff_costs()], d / "staff.parquet")
            if patients is not None:
                patients.result()
        if self.ledger is not None:
            _write_long([self.ledger], d / "ledger.parquet")
        package = dictionary.datapackage(sorted(p.name for p in d.glob("*.parquet")), self.scenario.name)
        (d / "datapackage.json").write_text(json.dumps(package, indent=1), encoding="utf-8")
        scenario = self.scenario.model_copy(deep=True)
        scenario.simulation.seed = self.root_seed
        (d / "scenario.yaml").write_text(
            "# Fully resolved scenario of this run, root seed included: `pcnsim run` on this file with\n"
            f"# --reps {self.replicates} reproduces it. Replicate seeds: {self.seeds}\n"
            f"# pcnsim {provenance.pcnsim_version()}; its libraries' versions, the commit and the command line are "
            "in manifest.json.\n" + to_yaml(scenario),
            encoding="utf-8",
        )
        origin = provenance.collect(self.started, {"root": self.root_seed, "replicates": self.seeds},
                                    ["scenario.yaml"])
        _verify.write_manifest(d, "results", origin, root_seed=self.root_seed, replicate_seeds=self.seeds,
                               wall_seconds=self.wall_seconds, patient_days=self.patient_days,
                               practices=self.practice_names, units=self.unit_names, weeks=int(self.weekly.shape[1]))

    @classmethod
    def load(cls, path: str | Path, verify: bool = True) -> Results:
        """Read a results directory written by `save`.

        With verify (the default) every file must match manifest.json's SHA-256 and size; either way each
        table must have the columns pcnsim writes and fit the manifest's shape. A missing, truncated, altered
        or foreign file is a ResultsError naming it (`verify=False` reads files edited on purpose)."""
        d = Path(path)
        outdir.recover(d)  # a replacement killed between its renames left the folder aside
        if not d.is_dir():
            raise ResultsError(f"{d}: not a pcnsim results directory (" + ("not a directory)" if d.exists() else
                                                                           "not found)"))
        manifest = _verify.read_manifest(d, verify)
        for name in ("scenario.yaml", "summary.parquet", "series.parquet", "capacity.parquet"):
            if name not in manifest["files"]:
                raise ResultsError(f"{d / 'manifest.json'}: lists no {name}; not a pcnsim results manifest")
        if verify:
            _verify.check_files(d, manifest)
        try:
            reps = len(manifest["replicate_seeds"])
            weeks, practices, units = int(manifest["weeks"]), list(manifest["practices"]), list(manifest["units"])
            root_seed, wall, days = manifest["root_seed"], manifest["wall_seconds"], manifest["patient_days"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsError(f"{d / 'manifest.json'}: not a pcnsim results manifest (bad or missing {exc})"
                               ) from None
        scenario = _read_scenario(d / "scenario.yaml")
        recorded = manifest if verify else None  # with verify, each table's columns as recorded too
        series = _verify.read_table(d / "series.parquet", recorded)
        series = series[series["practice"] != "all"]
        shape = (reps, weeks, len(practices), len(WEEKLY_METRICS))
        if len(series) != int(np.prod(shape)):
            raise ResultsError(f"{d / 'series.parquet'}: {len(series)} rows where manifest.json implies "
                               f"{int(np.prod(shape))}; not this run's table")
        weekly = series["value"].to_numpy().reshape(shape)
        cap = _verify.read_table(d / "capacity.parquet", recorded)
        offered = np.zeros((reps, weeks, len(units), len(ROLES)), np.int64)
        used = np.zeros_like(offered)
        ui = cap["unit"].map({u: i for i, u in enumerate(units)}).to_numpy()
        ri = cap["role"].map({r: i for i, r in enumerate(ROLES)}).to_numpy()
        if pd.isna(ui).any() or pd.isna(ri).any() or not (cap["replicate"].between(0, reps - 1).all()
                                                          and cap["week"].between(0, weeks - 1).all()):
            raise ResultsError(f"{d / 'capacity.parquet'}: units, roles or weeks that manifest.json does not "
                               "list; not this run's table")
        offered[cap["replicate"], cap["week"], ui, ri] = cap["offered"]
        used[cap["replicate"], cap["week"], ui, ri] = cap["used"]
        listed = manifest["files"]
        patients = ([_verify.read_table(d / "patients_yearly.parquet", recorded)]
                    if "patients_yearly.parquet" in listed else [])
        ledger = _verify.read_table(d / "ledger.parquet", recorded) if "ledger.parquet" in listed else None
        staff = None
        if "staff.parquet" in listed:
            table = _verify.read_table(d / "staff.parquet", recorded)
            table = table[table["role"].isin(ROLES)]  # project managers follow from the scenario
            years = int(table["year"].max()) + 1 if len(table) else 0
            if len(table) != reps * years * len(units) * len(ROLES):
                raise ResultsError(f"{d / 'staff.parquet'}: {len(table)} rows, not one per replicate, year, unit "
                                   "and role of this run")
            staff = table["fte"].to_numpy().reshape(reps, years, len(units), len(ROLES))
        res = cls(scenario=scenario, root_seed=root_seed, seeds=manifest["replicate_seeds"],
                  practice_names=practices, unit_names=units, weekly=weekly, capacity_offered=offered,
                  capacity_used=used, staff_fte=staff, patient_tables=patients, ledger=ledger, wall_seconds=wall,
                  patient_days=days)
        res.extra["summary"] = _verify.read_table(d / "summary.parquet", recorded)
        return res


def _read_scenario(path: Path) -> Scenario:
    """The saved scenario; a damaged or invalid file is one ResultsError naming it."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ResultsError(f"{path}: damaged: not readable YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ResultsError(f"{path}: damaged: not a scenario")
    try:
        return from_dict(raw, path)
    except ScenarioError as exc:
        raise ResultsError(str(exc)) from None


def _labels(names: list[str], codes: np.ndarray) -> pd.Categorical | np.ndarray:
    """names[codes], as a categorical column (as strings if a name is repeated: a practice called "all")."""
    if len(set(names)) == len(names):
        return pd.Categorical.from_codes(codes, categories=names)
    return np.array(names, object)[codes]


def _write_long(tables: list[pd.DataFrame], path: Path) -> None:
    """Write tables of millions of rows, one under another, to one parquet file (a row group or more each),
    without joining them, with their integer columns delta-encoded (a standard parquet encoding) instead of
    dictionary-encoded, pyarrow's default: ~25% faster to write (~0.7 s against ~0.95 s for 10 replicates x
    5 years of patients), about as small, and quicker to read. Tables whose types differ are joined first.
    Each column carries its description and unit from the data dictionary as field metadata."""
    if not _alike(tables):
        tables = [pd.concat(tables, ignore_index=True)]
    first = tables[0]
    integers = [c for c in first.columns if first[c].dtype.kind in "iu"]
    categories = [c for c in first.columns if isinstance(first[c].dtype, pd.CategoricalDtype)]
    schema = pa.Schema.from_pandas(first, preserve_index=False)
    # a code column with no code at all (no ODS codes in the scenario) is still a column of strings
    schema = pa.schema([f.with_type(pa.dictionary(f.type.index_type, pa.string()))
                        if pa.types.is_dictionary(f.type) and pa.types.is_null(f.type.value_type) else f
                        for f in schema], metadata=schema.metadata)
    described = dictionary.field_metadata(path.name) if path.name in dictionary.TABLES else {}
    schema = pa.schema([f.with_metadata(described[f.name]) if f.name in described else f for f in schema],
                       metadata=schema.metadata)
    with pq.ParquetWriter(path, schema, use_dictionary=categories,
                          column_encoding=dict.fromkeys(integers, "DELTA_BINARY_PACKED")) as writer:
        for table in tables:
            writer.write_table(pa.Table.from_pandas(table, schema=schema, preserve_index=False))


def _alike(tables: list[pd.DataFrame]) -> bool:
    """Whether the tables have the same columns of the same types (categories included)."""
    return all(t.dtypes.equals(tables[0].dtypes) for t in tables[1:])


def join_tables(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The tables one under another, as `pd.concat(tables, ignore_index=True)` gives them, emptying the list
    as it goes: a table's memory is freed once its rows are copied (unless held elsewhere; the model's
    columns go back to the system then), so the join needs little more than the joined table. The joined
    columns are on ordinary pages (`pages.empty_on_small_pages`): 100 replicates' patient tables are
    ~3 GB, which pandas would put in fresh huge pages at ~2.3 ms a MB on this machine."""
    first = tables[0]
    plain = all(isinstance(d, (np.dtype, pd.CategoricalDtype)) for d in first.dtypes)
    if len(tables) == 1 or not plain or not _alike(tables):
        joined = pd.concat(tables, ignore_index=True)  # one table, or types that differ: pandas' rules
        tables.clear()
        return joined
    dtypes = first.dtypes
    kinds = {name: isinstance(dtype, pd.CategoricalDtype) for name, dtype in dtypes.items()}
    rows = sum(len(t) for t in tables)
    joined = {name: empty_on_small_pages((rows,), first[name].cat.codes.dtype if categorical else dtypes[name])
              for name, categorical in kinds.items()}
    at = 0
    for q in range(len(tables)):
        table, tables[q] = tables[q], None
        for name, categorical in kinds.items():
            joined[name][at:at + len(table)] = (table[name].cat.codes if categorical else table[name]).to_numpy()
        at += len(table)
        del table
    tables.clear()
    return pd.DataFrame({name: pd.Categorical.from_codes(joined[name], dtype=dtypes[name], validate=False)
                         if categorical else joined[name] for name, categorical in kinds.items()}, copy=False)

