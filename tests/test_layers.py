"""The house's import rules (imports point down): the engine is numba over arrays and knows no scenario,
model, table or interface library; interfaces and result tables never reach into the engine.

Every import is read from the source (module level and inside functions), so a lazy import counts too.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pcnsim"

# third-party libraries the engine must not use: schema, model, tables, interfaces, files
NOT_IN_ENGINE = ("mesa", "pydantic", "solara", "typer", "click", "rich", "pandas", "pyarrow", "yaml", "matplotlib",
                 "dask", "distributed", "scipy", "optuna", "SALib")
ENGINE_MAY_USE = ("pcnsim.engine", "pcnsim.vocab", "pcnsim.pages")
INTERFACES = ("pcnsim.cli", "pcnsim.dashboard", "pcnsim.__main__")
# results and what they are read with: tables, metrics, figures, reports
RESULTS = ("pcnsim.results", "pcnsim.metrics", "pcnsim.registry", "pcnsim.display", "pcnsim.churn", "pcnsim.targets",
           "pcnsim.plots", "pcnsim.report", "pcnsim.dictionary", "pcnsim.boardpaper", "pcnsim.report_page",
           "pcnsim.experiment_reports", "pcnsim.provenance")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module
            found.add(stem)
            found.update(f"{stem}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_rules_see_every_module():
    assert "pcnsim.engine.day" in MODULES and "pcnsim.cli" in MODULES and len(MODULES) > 30


@pytest.mark.parametrize("module", sorted(m for m in MODULES if within(m, ("pcnsim.engine",))))
def test_the_engine_imports_only_numerics_and_the_vocabulary(module):
    bad = sorted(i for i in MODULES[module] if i.split(".")[0] in NOT_IN_ENGINE
                 or (i.startswith("pcnsim") and not within(i, ENGINE_MAY_USE)))
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if within(m, INTERFACES + RESULTS + ("pcnsim.vocab",))))
def test_interfaces_and_results_never_import_the_engine(module):
    bad = sorted(i for i in MODULES[module] if within(i, ("pcnsim.engine",)))
    assert not bad, f"{module} imports {bad}"


MODEL_AND_ABOVE = ("pcnsim.run", "pcnsim.model", "pcnsim.params", "pcnsim.levers", "pcnsim.population",
                   "pcnsim.experiments")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if within(m, RESULTS)))
def test_results_and_reports_read_tables_and_never_run_anything(module):
    bad = sorted(i for i in MODULES[module] if within(i, MODEL_AND_ABOVE))
    assert not bad, f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not within(m, INTERFACES)))
def test_nothing_below_the_interfaces_imports_them(module):
    bad = sorted(i for i in MODULES[module] if within(i, INTERFACES))
    assert not bad, f"{module} imports {bad}"


def test_the_vocabulary_imports_nothing_of_the_package():
    assert not [i for i in MODULES["pcnsim.vocab"] if i.startswith("pcnsim")]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not within(m, (*INTERFACES, "pcnsim.file_schemas"))))
def test_only_the_interfaces_use_the_published_schemas(module):
    """pcnsim.file_schemas reads every kind of file's model (experiments included), so it sits just below the
    interfaces: nothing it describes may import it."""
    assert not any(within(i, ("pcnsim.file_schemas",)) for i in MODULES[module]), module
