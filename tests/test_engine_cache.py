"""The engine's compiled-code cache is keyed on all of its sources: editing one kernel recompiles the kernels
that call it from other modules (numba alone checks only each kernel's own file)."""

import subprocess
import sys
import textwrap
from pathlib import Path

CALLEE = "from pcnsim.engine.config import jit\n\n\n@jit\ndef inner():\n    return {value}\n"
CALLER = ("from pcnsim.engine.config import entry\n\nfrom .callee import inner\n\n\n"
          "@entry\ndef outer():\n    return inner()\n")
RUN = textwrap.dedent("""
    import sys
    from pathlib import Path
    from pcnsim.engine.config import register_cache
    sys.path.insert(0, sys.argv[1])
    if sys.argv[2] == "keyed":
        register_cache(Path(sys.argv[1]) / "kernels")
    from kernels.caller import outer
    print(outer())
""")


def make_package(root: Path, value: int) -> None:
    package = root / "kernels"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "callee.py").write_text(CALLEE.format(value=value))
    (package / "caller.py").write_text(CALLER)


def outer_returns(root: Path, mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", RUN, str(root), mode], capture_output=True, text=True, check=True,
                         timeout=300)
    return int(out.stdout.strip().splitlines()[-1])


def test_a_cached_caller_of_an_edited_kernel_is_recompiled(tmp_path):
    for mode in ("plain", "keyed"):
        root = tmp_path / mode
        root.mkdir()
        make_package(root, 1)
        assert outer_returns(root, mode) == 1  # compiled and cached
        assert any((root / "kernels" / "__pycache__").glob("caller.outer-*.nbi"))
        make_package(root, 2)  # the callee's module changes, the caller's does not
        stale = outer_returns(root, mode)
        if mode == "plain":
            assert stale == 1  # numba's own check serves the caller's old machine code
        else:
            assert stale == 2  # keyed on every module of the package: recompiled


def test_the_engine_cache_is_reused_when_nothing_changed(tmp_path):
    root = tmp_path / "same"
    root.mkdir()
    make_package(root, 3)
    assert outer_returns(root, "keyed") == 3
    index = next((root / "kernels" / "__pycache__").glob("caller.outer-*.nbi"))
    written = index.stat().st_mtime_ns
    assert outer_returns(root, "keyed") == 3
    assert index.stat().st_mtime_ns == written  # loaded, not compiled and saved again
