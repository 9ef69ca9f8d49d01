"""The examples in docstrings are documentation: every one of them must run as written."""

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("claimsift.model", "claimsift.data", "claimsift.eval", "claimsift.training")


def _modules() -> list[str]:
    names = ["claimsift.cli", "claimsift.scoring"]
    for pkg in PACKAGES:
        names += [f"{pkg}.{m.name}" for m in pkgutil.iter_modules(importlib.import_module(pkg).__path__)]
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_pure_modules_have_examples():
    for name in ("claimsift.model.attribution", "claimsift.model.features", "claimsift.eval.metrics"):
        assert doctest.testmod(importlib.import_module(name)).attempted > 0, name
