"""The deprecated ``pvae.infer``: it warns, loads nothing until asked, its names are the new."""

import importlib
import subprocess
import sys

import pytest

import pvae


def test_importing_it_warns_where_it_is_imported_and_loads_nothing():
    probe = ("import sys, warnings\nwarnings.simplefilter('always')\n"
             "with warnings.catch_warnings(record=True) as caught:\n    import pvae.infer\n"
             "(warning,) = caught\n"
             "print(warning.category.__name__, warning.filename, '|', warning.message)\n"
             "print('HEAVY', sorted({'torch', 'pyro', 'arviz'} & set(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)
    assert "DeprecationWarning <string> |" in done.stdout, done.stdout  # the importer's line
    assert "pvae.train" in done.stdout and "pvae.posterior" in done.stdout
    assert "HEAVY []" in done.stdout


def test_its_names_and_modules_are_the_new_ones(monkeypatch):
    monkeypatch.delitem(sys.modules, "pvae.infer", raising=False)
    with pytest.warns(DeprecationWarning, match="pvae.infer is deprecated"):
        infer = importlib.import_module("pvae.infer")
    for name in ("fit", "elbo", "iwae", "ais", "mcmc", "evidence", "Pair", "FitResult"):
        assert getattr(infer, name) is getattr(pvae, name)
    assert infer.true_objective is importlib.import_module("pvae.pair").true_objective
    assert {"fit", "elbo", "mcmc", "pointwise_log_likelihood", "true_objective"} <= set(
        infer.__all__)
    from pvae.infer import estimators  # an old module, by attribute

    assert estimators is importlib.import_module("pvae.estimate.importance")
    svi = importlib.import_module("pvae.train.svi")
    exec("import pvae.infer.svi", {})  # an old module, by its dotted name
    assert sys.modules["pvae.infer.svi"] is svi and svi.__spec__.name == "pvae.train.svi"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        infer.nothing  # noqa: B018
