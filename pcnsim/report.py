"""`pcnsim report RESULTS_DIR`: the report of any results folder, by its manifest's kind: of a comparison, a
sweep, an optimisation or a calibration, one self-contained page (`pcnsim.boardpaper`,
`pcnsim.experiment_reports`); of a run, a readable HTML report with PNG figures, made here.

The run report's sections: headline summary with 95% intervals, contacts by age and sex, who never comes, A&E by age
and deprivation, the frequent-attender churn table and flow figure, and the fit to the evidence of
docs/model.md. Written to RESULTS_DIR/report/ via a temporary sibling, so it is complete or absent,
with a manifest.json of its own; an existing folder is replaced only with overwrite and only if pcnsim
wrote it.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from . import boardpaper, churn, experiment_reports, outdir, plots, provenance, targets
from . import verify as verify_mod
from .metrics import HEADLINE, format_number
from .results import Results, ResultsError

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; color: #222; line-height: 1.4 }
h1 { font-size: 1.6em } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em }
table { border-collapse: collapse; font-size: .9em; margin: 1em 0 }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: right } th { background: #f4f4f4 }
td:first-child, th:first-child { text-align: left }
.in { color: #1a7f37; font-weight: bold } .out { color: #cf222e; font-weight: bold }
img { max-width: 100%; border: 1px solid #eee } .note { color: #555; font-size: .9em }
"""


def _fmt(x) -> str:
    return html.escape(x) if isinstance(x, str) else format_number(x)


def _table(df: pd.DataFrame, raw_columns: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for _, row in df.iterrows():
        cells = "".join(f"<td>{row[c] if c in raw_columns else _fmt(row[c])}</td>" for c in df.columns)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def summary_section(res: Results) -> str:
    head = res.headline()
    rows = [(label, *head.loc[m, ["mean", "low_95", "high_95"]]) for m, label in HEADLINE.items() if m in head.index]
    df = pd.DataFrame(rows, columns=["metric (per 1,000 = per 1,000 person-years)", "mean", "2.5%", "97.5%"])
    return _table(df)


def churn_section(patients: pd.DataFrame) -> str:
    s = churn.churn_summary(churn.churn_table(patients))
    s["value"] = [f"{_fmt(m)} ({_fmt(lo)}-{_fmt(hi)})" for m, lo, hi in zip(s["mean"], s["low_95"], s["high_95"],
                                                                            strict=True)]
    wide = s.pivot(index="metric", columns="definition", values="value").reindex(s["metric"].unique())
    wide = wide[[d for d in churn.DEFINITIONS if d in wide.columns]]
    wide.columns = [f"{d}: {churn.DEFINITIONS[d]}" for d in wide.columns]
    return _table(wide.reset_index(), raw_columns=tuple(wide.columns))


def fit_section(patients: pd.DataFrame) -> tuple[str, int, int]:
    fit = targets.fit_table(patients)
    fit["measure"] = fit["measure"].map(targets.measure_label)  # plain words
    fit["range"] = [f"{_fmt(lo)} - {_fmt(hi)}" for lo, hi in zip(fit["low"], fit["high"], strict=True)]
    fit["model (95% interval)"] = [f"{_fmt(m)} ({_fmt(lo)}-{_fmt(hi)})" for m, lo, hi in
                                   zip(fit["model"], fit["model_low_95"], fit["model_high_95"], strict=True)]
    fit["fit"] = ['<span class="in">in range</span>' if ok else '<span class="out">out of range</span>'
                  for ok in fit["in_range"]]
    cols = ["target", "source", "measure", "range", "model (95% interval)", "fit"]
    return _table(fit[cols], raw_columns=("range", "model (95% interval)", "fit")), int(fit["in_range"].sum()), len(fit)


KINDS = {"results": "run", "compare": "comparison", "sweep": "sweep", "optimise": "optimisation",
         "calibrate": "calibration", "report": "report"}  # a manifest's kind, in words
PAGES = {"compare": boardpaper.html, **experiment_reports.PAGES}  # one self-contained page by folder kind


def build(results_dir: str | Path, out: str | Path | None = None, verify: bool = True,
          overwrite: bool = False) -> Path:
    """Write the report of a results folder of any kind (run, compare, sweep, optimise, calibrate: its
    manifest's `kind`); returns the path of index.html.

    The report folder (default RESULTS/report) must be absent or empty, or with overwrite a report pcnsim
    wrote; it is claimed before anything is read, and swapped in whole (`pcnsim.outdir`). verify=False
    reads results whose files no longer match their manifest (edited on purpose). A folder of another
    kind, or none, is a ResultsError naming it, before any report folder is made."""
    results_dir = Path(results_dir)
    target = Path(out) if out is not None else results_dir / "report"
    manifest = _source_manifest(results_dir, verify)
    kind = manifest.get("kind", "results")
    if kind == "results":
        with outdir.Claim(target, overwrite) as claim:
            res = Results.load(results_dir, verify=verify)
            if res.patients is None:
                raise ResultsError(f"{results_dir}: the run kept no per-patient table (--no-patients); the report "
                                   "needs it")
            return claim.write(lambda d: _write(res, d, results_dir, manifest)) / "index.html"
    page = PAGES.get(kind)
    if page is None:
        raise ResultsError(f"{results_dir}: a {KINDS.get(kind, repr(kind))} folder has no report; pcnsim report "
                           "reads the folders of run, compare, sweep, optimise and calibrate")
    if verify:
        verify_mod.check_files(results_dir, manifest)

    def fill(d: Path) -> None:
        (d / "index.html").write_text(page(results_dir), encoding="utf-8")
        _finish(d, results_dir, manifest)

    with outdir.Claim(target, overwrite) as claim:
        return claim.write(fill) / "index.html"


def _source_manifest(folder: Path, verify: bool) -> dict:
    """The manifest of the folder to report on; an unfinished sweep or optimisation says so."""
    outdir.recover(folder)  # a replacement killed between its renames left the folder aside
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a pcnsim results directory ("
                           + ("not a directory)" if folder.exists() else "not found)"))
    unfinished = outdir.marked_kind(folder)
    if unfinished is not None and not (folder / "manifest.json").exists():
        raise ResultsError(f"{folder}: this {KINDS.get(unfinished, unfinished)} has not finished (no manifest.json "
                           f"yet); run pcnsim {unfinished} on its experiment file again to finish it")
    return verify_mod.read_manifest(folder, verify)


def _finish(d: Path, source: Path, manifest: dict) -> None:
    """The report folder's manifest: its own provenance, with the seeds and checksum of the folder it reports."""
    seeds = (manifest.get("provenance") or {}).get("seeds") or {"root": manifest.get("root_seed"),
                                                                "replicates": manifest.get("replicate_seeds", [])}
    origin = provenance.collect(None, seeds, [], source={"folder": str(source.resolve()),
                                                         "kind": manifest.get("kind", "results"),
                                                         "manifest_sha256": manifest.get("manifest_sha256")})
    verify_mod.write_manifest(d, "report", origin)


def _write(res: Results, d: Path, source: Path, manifest: dict) -> None:
    p = res.patients
    figures = {
        "contacts_by_age_sex.png": plots.contacts_by_age_sex(p),
        "zero_contact_by_age.png": plots.zero_contact_by_age(p),
        "ae_by_age_deprivation.png": plots.ae_by_age_and_deprivation(p),
        "churn_flow.png": plots.churn_flow(p, "top10"),
    }
    for name, fig in figures.items():
        plots.save(fig, d / name)
    sc = res.scenario
    years = int(p["year"].nunique())
    fit_html, n_in, n_checks = fit_section(p)
    body = f"""
<h1>pcnsim report: {html.escape(sc.name)}</h1>
<p>{html.escape(sc.description)}</p>
<p class="note">{sc.n_patients:,} patients in {sum(len(x.practices) for x in sc.pcns)} practices;
{years} reported year(s) after {sc.simulation.burn_in_years} burn-in year(s); {res.replicates} replicate(s)
from root seed {res.root_seed}. Intervals are 2.5th-97.5th percentiles over replicates.</p>
<h2>Summary</h2>{summary_section(res)}
<h2>Contacts by age and sex</h2><img src="contacts_by_age_sex.png" alt="contacts by age and sex">
<h2>Who never comes</h2><img src="zero_contact_by_age.png" alt="share with no contact by age band">
<h2>A&amp;E by age and deprivation</h2><img src="ae_by_age_deprivation.png" alt="A&E by age and deprivation">
<h2>Frequent attenders and their churn</h2>
<p class="note">Year t's frequent attenders a year on: persist (still FA), still high (not FA, at least half
their contacts), need dissipated, or left the list/died; these add to 1. Inflow: share of year t+1's FAs
who were not FAs in year t. Complex = complexity level 2-3. Persistence needs at least 2 reported years.</p>
{churn_section(p)}
<img src="churn_flow.png" alt="frequent attender flow">
<h2>Fit to the evidence ({n_in} of {n_checks} checks in range)</h2>
<p class="note">Calibration targets (docs/model.md), their sources, and the model's value in this run.</p>
{fit_html}
"""
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>pcnsim report: {html.escape(sc.name)}</title>" \
           f"<style>{CSS}</style></head><body>{body}</body></html>"
    (d / "index.html").write_text(page, encoding="utf-8")
    _finish(d, source, manifest)
