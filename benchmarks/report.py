"""Print a benchmark's figures one per line and, when asked, write them as JSON (shared by the scripts)."""

from __future__ import annotations

import json
from pathlib import Path


def report(result: dict, json_path: Path | None = None) -> None:
    width = max(map(len, result)) + 2
    for key, value in result.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else value
        print(f"{key:{width}s} {shown}")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2))
