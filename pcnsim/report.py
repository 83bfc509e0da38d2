"""`pcnsim report RESULTS_DIR`: the report of any results folder, by its manifest's kind, one self-contained
HTML page: of a run (`pcnsim.run_report`), a comparison (`pcnsim.boardpaper`), a sweep, an optimisation or a
calibration (`pcnsim.experiment_reports`).

Written to RESULTS_DIR/report/ via a temporary sibling, so it is complete or absent, with a manifest.json of
its own; an existing folder is replaced only with overwrite and only if pcnsim wrote it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import boardpaper, experiment_reports, outdir, provenance, run_report
from . import verify as verify_mod
from .results import Results, ResultsError

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
    if kind != "results" and kind not in PAGES:
        raise ResultsError(f"{results_dir}: a {KINDS.get(kind, repr(kind))} folder has no report; pcnsim report "
                           "reads the folders of run, compare, sweep, optimise and calibrate")
    if verify and kind != "results":
        verify_mod.check_files(results_dir, manifest)  # a run's files are checked as Results.load reads them
    with outdir.Claim(target, overwrite) as claim:
        page = _run_page(results_dir, verify) if kind == "results" else PAGES[kind]

        def fill(d: Path) -> None:
            (d / "index.html").write_text(page(results_dir), encoding="utf-8")
            _finish(d, results_dir, manifest)

        return claim.write(fill) / "index.html"


def _run_page(folder: Path, verify: bool) -> Callable[[Path], str]:
    """The page of a run, once its results are read (under the claim): it needs the per-patient table."""
    res = Results.load(folder, verify=verify)
    if res.patients is None:
        raise ResultsError(f"{folder}: the run kept no per-patient table (--no-patients); the report needs it")
    return lambda source: run_report.html(res, source)


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
