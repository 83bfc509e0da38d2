"""MkDocs hook: the results page's column tables, generated from the data dictionary at build time.

`docs/outputs.md` holds a marker `<!-- columns: FILE -->` where each file's table goes; the rows come from
`pcnsim.dictionary` (the same entries the Parquet field metadata and datapackage.json carry), so the page
cannot drift from what the files hold. Referenced from mkdocs.yml (`hooks:`).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # document this checkout's dictionary, whichever pcnsim is installed
    sys.path.insert(0, str(REPO))

MARKER = re.compile(r"<!-- columns: (\S+) -->")


def table(file: str) -> str:
    from pcnsim.dictionary import columns

    rows = ["| column | type | unit | content |", "|---|---|---|---|"]
    rows += [f"| `{c.name}` | {c.kind} | {c.unit} | {c.description} |" for c in columns(file)]
    return "\n".join(rows)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return MARKER.sub(lambda m: table(m.group(1)), markdown)
