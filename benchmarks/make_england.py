"""Write scenarios/england.yaml: all of England as ~1,250 PCNs of ~6,400 practices, ~63.7M patients.

Run: python benchmarks/make_england.py [--out scenarios/england.yaml] [--seed 2026]

Synthetic but realistic in spread (NHS Digital, 2023-24: ~6,400 practices with a mean list of ~9,900
and a long right tail; ~1,250 PCNs, most of 30,000-50,000 patients, typically 4-6 practices): list sizes
are log-normal (median ~8,000, clipped to 1,000-60,000) and scaled so the total is 63.7M; practices are
grouped into PCNs of 2-10 (mean ~5.1); each PCN has an area deprivation quintile and its practices'
deprivation mixes concentrate around it. ARRS FTE per PCN scale with its list (the default is for 42,000).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
PATIENTS = 63_700_000
PRACTICES = 6_400
PCNS = 1_250


def deprivation_mix(centre: int, rng: np.random.Generator) -> list[float]:
    """Shares of the five quintiles, peaked at `centre` (0 = most deprived)."""
    weights = np.exp(-0.9 * np.abs(np.arange(5) - centre)) * rng.uniform(0.7, 1.3, 5)
    shares = np.round(weights / weights.sum(), 3)
    shares[centre] += round(1.0 - shares.sum(), 3)
    return [float(x) for x in shares]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "scenarios" / "england.yaml")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    sizes = np.clip(rng.lognormal(np.log(8_000), 0.6, PRACTICES), 1_000, 60_000)
    sizes = np.maximum(1_000, np.round(sizes * PATIENTS / sizes.sum())).astype(int)
    sizes[np.argmax(sizes)] += PATIENTS - sizes.sum()  # exactly 63.7M
    cuts = np.sort(rng.choice(np.arange(1, PRACTICES), PCNS - 1, replace=False))
    groups = np.split(np.arange(PRACTICES), cuts)
    pcns = []
    for c, members in enumerate(groups):
        centre = int(rng.integers(0, 5))
        pcns.append({
            "name": f"PCN {c + 1:04d}",
            "practices": [{"name": f"Practice {i + 1:04d}", "list_size": int(sizes[i]),
                           "deprivation_mix": deprivation_mix(centre, rng)} for i in members],
        })
    header = ("# yaml-language-server: $schema=../schemas/scenario.schema.json\n"
              f"# All of England: {PCNS:,} PCNs, {PRACTICES:,} practices, {sizes.sum():,} patients (synthetic,\n"
              "# realistic spread; written by benchmarks/make_england.py, seed "
              f"{args.seed}). National questions: the calibrated\n# baseline's parameters on the whole country; "
              "network staff per 1,000 patients as in the baseline.\n")
    data = {"extends": "baseline.yaml", "name": "england",
            "description": "All of England: 1,250 PCNs, 6,400 practices, 63.7M patients.",
            "simulation": {"years": 1, "burn_in_years": 1}, "pcns": pcns}
    args.out.write_text(header + yaml.safe_dump(data, sort_keys=False, width=200))
    sizes_per_pcn = [int(sizes[g].sum()) for g in groups]
    print(f"wrote {args.out}: {len(pcns)} PCNs, {PRACTICES} practices, {sizes.sum():,} patients; "
          f"practice list median {int(np.median(sizes)):,}, PCN median {int(np.median(sizes_per_pcn)):,}")


if __name__ == "__main__":
    main()
