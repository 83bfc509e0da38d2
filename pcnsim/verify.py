"""Checks that what pcnsim reads back is what it wrote: SHA-256 checksums, manifests, table schemas.

A results folder's manifest.json lists every file with its SHA-256 and size, records each table's
columns and types, and carries a checksum of its own content (`manifest_sha256`), so a changed byte,
a truncated or missing file, a file swapped in from another run, or an edited manifest is refused with one
line naming the file (ResultsError) instead of loading different numbers or failing with a traceback.
JSON records (a sweep's runs/<id>.json) carry a checksum of their own content the same way (`sha256`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import atomic, dictionary
from .outdir import FORMAT, GENERATOR, ResultsError

NO_VERIFY_HINT = "pcnsim report --no-verify (or Results.load(..., verify=False)) reads it anyway"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def digest(data: dict, field: str) -> str:
    """SHA-256 of a JSON object's canonical text, leaving out `field` (where the digest itself is kept)."""
    body = {k: v for k, v in data.items() if k != field}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def seal(data: dict, field: str) -> dict:
    """The object with its own checksum in `field`."""
    return {**data, field: digest(data, field)}


def sealed(data: object, field: str) -> bool:
    """Whether a JSON object carries a checksum of its own content that matches it."""
    return isinstance(data, dict) and data.get(field) == digest(data, field)


def schema_of(path: Path) -> list[list[str]]:
    """A parquet file's columns and their Arrow types, as [[name, type], ...] (what a manifest records)."""
    return [[f.name, str(f.type)] for f in pq.read_schema(path)]


def write_manifest(folder: Path, kind: str, provenance: dict, subfolders: tuple[str, ...] = (), **extra) -> dict:
    """Write `folder`/manifest.json: generator, kind, every file's SHA-256 and size (with those in
    `subfolders`, as "sub/name"), each parquet table's schema, where the folder came from (`provenance`,
    from `pcnsim.provenance.collect`), `extra`, and the manifest's own checksum. Written last: a folder with
    a manifest is complete. Hidden files (pcnsim's markers, locks and temporaries) are not listed."""
    found = [p for p in sorted(folder.iterdir()) if p.is_file()]
    for sub in subfolders:
        found += sorted(p for p in (folder / sub).iterdir() if p.is_file())
    files = {p.relative_to(folder).as_posix(): p for p in found if not p.name.startswith(".")
             and p.name != "manifest.json"}
    manifest = seal({
        "generator": GENERATOR, "format": FORMAT, "kind": kind,
        "files": {name: sha256_file(p) for name, p in files.items()},
        "bytes": {name: p.stat().st_size for name, p in files.items()},
        "schemas": {name: schema_of(p) for name, p in files.items() if p.suffix == ".parquet"},
        "provenance": provenance,
        **extra,
    }, "manifest_sha256")
    atomic.write_text(folder / "manifest.json", json.dumps(manifest, indent=2))
    return manifest


def read_manifest(folder: Path, verify: bool) -> dict:
    """A results folder's manifest.json, checked: it parses, pcnsim wrote it and (verify) it is unedited."""
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{folder}: not a pcnsim results directory (missing manifest.json)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ResultsError(f"{path}: damaged: not readable JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ResultsError(f"{path}: not a pcnsim manifest (no file list)")
    if "generator" in manifest and manifest["generator"] != GENERATOR:
        raise ResultsError(f"{path}: written by {manifest['generator']!r}, not pcnsim")
    if verify and "manifest_sha256" in manifest and not sealed(manifest, "manifest_sha256"):
        raise ResultsError(f"{path}: altered since pcnsim wrote it (its checksum differs); {NO_VERIFY_HINT}")
    return manifest


def check_files(folder: Path, manifest: dict) -> None:
    """Every file the manifest lists is present, of its size, with its SHA-256 and (if recorded) schema."""
    sizes = manifest.get("bytes", {})
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise ResultsError(f"{path}: missing (listed in manifest.json)")
        if name in sizes and path.stat().st_size != sizes[name]:
            raise ResultsError(f"{path}: truncated, altered or replaced since pcnsim wrote it ({path.stat().st_size} "
                               f"bytes, manifest.json says "
                               f"{sizes[name]}); {NO_VERIFY_HINT}")
        if sha256_file(path) != expected:
            raise ResultsError(f"{path}: altered or replaced since pcnsim wrote it (SHA-256 differs from "
                               f"manifest.json); {NO_VERIFY_HINT}")


# the tables pcnsim reads back, with the kind of each column (i integer, f number, s text or category,
# b true/false, d date), from the data dictionary
KINDS = {"integer": "i", "number": "f", "string": "s", "boolean": "b", "date": "d"}
TABLES = {file: {c.name: KINDS[c.kind] for c in columns} for file, columns in dictionary.TABLES.items()}


def _kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_integer(t):
        return "i"
    if pa.types.is_floating(t):
        return "f"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "s"
    if pa.types.is_boolean(t):
        return "b"
    if pa.types.is_date(t):
        return "d"
    return str(t)


def read_table(path: Path, manifest: dict | None = None):
    """A parquet table as a DataFrame, after checking its columns: those pcnsim expects (TABLES) and, if the
    manifest recorded them, exactly the recorded schema. Any failure is one ResultsError naming the file."""
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing") from None
    except (OSError, pa.ArrowException) as exc:
        raise ResultsError(f"{path}: damaged: not a readable parquet file ({_first_line(exc)})") from None
    expected = TABLES.get(path.name, {})
    for column, kind in expected.items():
        field = schema.field(column) if column in schema.names else None
        if field is None:
            raise ResultsError(f"{path}: not a pcnsim {path.stem} table (no column {column!r})")
        if _kind(field.type) != kind and not (kind == "f" and _kind(field.type) == "i"):
            raise ResultsError(f"{path}: column {column!r} has type {field.type}, not the type pcnsim writes")
    recorded = (manifest or {}).get("schemas", {}).get(path.name)
    if recorded is not None and [[f.name, str(f.type)] for f in schema] != recorded:
        raise ResultsError(f"{path}: its columns differ from those manifest.json records")
    try:
        return pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise ResultsError(f"{path}: damaged: not a readable parquet file ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
