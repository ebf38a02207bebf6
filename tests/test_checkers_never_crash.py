"""Every exercise check of every lesson answers a wrong answer with a verdict, never a traceback."""

import importlib
import inspect
import pkgutil

import pandas as pd
import pytest

import coursekit.exercises
from coursekit.exercises import Verdict


def all_checks():
    for module_info in pkgutil.iter_modules(coursekit.exercises.__path__):
        module = importlib.import_module(f"coursekit.exercises.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("check_") and function.__module__ == module.__name__:
                yield pytest.param(function, id=f"{module_info.name}.{name}")


def raises(*args, **kwargs):
    raise RuntimeError("a learner's function that fails")


def returns_none(*args, **kwargs):
    return None


WRONG_ANSWERS = {
    "None": None, "int": 42, "text": "text", "empty list": [], "empty dict": {}, "empty DataFrame": pd.DataFrame(),
    "wrong columns": pd.DataFrame({"x": [1, 2]}), "raising function": raises, "function returning None": returns_none,
    "nan": float("nan"), "bytes": b"\x00", "nested": [[None]],
}


def test_there_are_checks_to_try():
    assert len(list(all_checks())) >= 4


@pytest.mark.parametrize("check", list(all_checks()))
@pytest.mark.parametrize("answer", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS.keys())
def test_a_wrong_answer_gets_a_verdict(check, answer):
    arguments = [answer] * len(inspect.signature(check).parameters)
    result = check(*arguments)
    assert isinstance(result, Verdict) and not result.ok and result.message
