"""The day loop runs the steps in the order `engine.STEPS` declares (what `pcnsim describe` prints)."""

import ast
import inspect
import textwrap

from pcnsim.engine import day
from pcnsim.model import daily_steps


def called_names(function) -> list[str]:
    """Names of the functions `function` calls, in source order."""
    source = inspect.getsource(getattr(function, "py_func", function))
    calls = [node for node in ast.walk(ast.parse(textwrap.dedent(source))) if isinstance(node, ast.Call)]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    return [node.func.id for node in calls if isinstance(node.func, ast.Name)]


def test_the_day_loop_calls_the_declared_steps_in_order():
    declared = [step.function.__name__ for step in day.STEPS]
    assert len(set(declared)) == len(declared)
    called = [name for name in called_names(day.run_days) if name in declared]
    assert called == declared


def test_every_step_function_is_a_compiled_kernel_and_describe_prints_them_all():
    assert all(hasattr(step.function, "py_func") for step in day.STEPS)
    described = daily_steps()
    assert [name for name, _, _ in described] == [step.name for step in day.STEPS]
    assert all(text and when for _, when, text in described)
