"""MkDocs hook: the results page's column tables, generated from the data dictionary at build time.

`docs/outputs.md` holds a marker `<!-- columns: FILE -->` (a run's or a comparison's file) or
`<!-- columns: KIND/FILE -->` (a file in a folder of that kind: sweep, optimise, calibrate) where each file's
table goes; the rows come from `pcnsim.dictionary` (the same entries the Parquet field metadata and
datapackage.json carry), so the page cannot drift from what the files hold. A pattern column shows its
placeholder and, after its content, which columns it stands for. Referenced from mkdocs.yml (`hooks:`).
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
    from pcnsim.dictionary import columns, entry

    kind, _, name = file.rpartition("/")
    rows = ["| column | type | unit | content |", "|---|---|---|---|"]
    rows += [f"| `{c.name}` | {c.kind} | {c.unit} | {c.description}{f'; {c.each}' if c.each else ''} |"
             for c in (entry(kind, name) if kind else columns(name))]
    return "\n".join(rows)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return MARKER.sub(lambda m: table(m.group(1)), markdown)
