"""What every experiment folder keeps of how it was made, beside its results: a copy of the experiment file
(`experiment.yaml`), the base scenario fully resolved (`scenario.yaml`: every field explicit, with the
experiment's fixed settings, root seed and reported years), and manifest.json with the folder's
provenance (`pcnsim.provenance`). Written last, when the folder is complete."""

from __future__ import annotations

import copy
from pathlib import Path

from .. import atomic, provenance, verify
from ..scenario import from_dict, to_yaml

EXPERIMENT = "experiment.yaml"
BASE = "scenario.yaml"
NAMES = (EXPERIMENT, BASE, "manifest.json")  # what `keep` adds to a folder


def resolved(data: dict, seed: int, years: int, header: str) -> str:
    """A scenario's data as a fully resolved scenario file, with this root seed and reported years."""
    data = copy.deepcopy(data)
    data.setdefault("simulation", {}).update(seed=seed, years=years)
    return header + to_yaml(from_dict(data))


def keep(folder: Path, kind: str, experiment_text: str, base: dict, seed: int, years: int, started: float | None,
         seeds: dict, scenarios: tuple[str, ...] = (), subfolders: tuple[str, ...] = (), **extra) -> dict:
    """Write the experiment file's copy, the resolved base scenario and, last, the manifest of `folder`.

    scenarios: further resolved scenario files the folder holds; seeds: the seeds its runs used;
    subfolders: folders whose files the manifest lists too; extra: kind-specific facts for the manifest."""
    atomic.write_text(folder / EXPERIMENT, experiment_text)
    header = (f"# The base scenario of this {kind}, fully resolved, with the experiment's fixed settings, root seed "
              f"and reported years;\n# what the experiment varies is in {EXPERIMENT}.\n")
    atomic.write_text(folder / BASE, resolved(base, seed, years, header))
    origin = provenance.collect(started, seeds, [BASE, *scenarios], experiment=EXPERIMENT)
    return verify.write_manifest(folder, kind, origin, subfolders, **extra)
