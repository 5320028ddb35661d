"""Progress off a terminal: a line per epoch for a fit, periodic lines for a long estimate."""

import pyro
import pyro.distributions as dist
import pytest
import torch

import pvae
from pvae import progress as progress_module
from tests.train.test_fit import LatentMean


@pytest.fixture
def no_throttle(monkeypatch):
    monkeypatch.setattr(progress_module, "EPOCH_LINE_SECONDS", 0.0)
    monkeypatch.setattr(progress_module, "LINE_SECONDS", 0.0)


def test_fit_writes_a_line_per_epoch_when_stderr_is_not_a_terminal(capsys, no_throttle):
    pvae.fit(LatentMean(), torch.randn(40), epochs=3, batch_size=10, seed=0)
    lines = capsys.readouterr().err.splitlines()
    epochs = [line for line in lines if "epoch" in line]
    assert len(epochs) == 3, lines
    for number, line in enumerate(epochs, 1):
        assert f"epoch {number}/3 (step {4 * number}/12)" in line
        assert "elbo=" in line and line.endswith(" s")


def test_fit_lines_are_throttled_but_the_first_and_last_epoch_always_show(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "EPOCH_LINE_SECONDS", 3600.0)
    pvae.fit(LatentMean(), torch.randn(40), epochs=5, batch_size=10, seed=0)
    epochs = [line for line in capsys.readouterr().err.splitlines() if "epoch" in line]
    assert [line.split(" (")[0] for line in epochs] == ["svi fit: epoch 1/5", "svi fit: epoch 5/5"]


def test_progress_false_is_silent(capsys, no_throttle, vae):
    pair, x = vae
    pvae.fit(LatentMean(), torch.randn(40), epochs=2, batch_size=10, seed=0, progress=False)
    pvae.score(pair, x, ks=(5,), batch_size=5, progress=False)
    assert capsys.readouterr().err == ""


@pytest.fixture(scope="module")
def vae():
    from pvae.data import binarize, digits

    x = binarize(digits().train[:20], seed=0)
    pair = pvae.VAE(64, 2, seed=0)
    return pair, x


@pytest.mark.parametrize("run", [
    pytest.param(lambda pair, x: pvae.score(pair, x, ks=(50,), batch_size=5), id="score"),
    pytest.param(lambda pair, x: pvae.iwae_ladder(pair, x, ks=(50,), batch_size=5),
                 id="iwae_ladder"),
    pytest.param(lambda pair, x: pvae.ais(pair, x[:4], steps=5, chains=2,
                                          check_convergence=False), id="ais"),
    pytest.param(lambda pair, x: pvae.bdmc(pair, 2, steps=5, chains=2), id="bdmc"),
    pytest.param(lambda pair, x: pvae.gaps(pair, x[:4], steps=5, ais_steps=5, batch_size=2),
                 id="gaps"),
])
def test_long_estimates_show_progress_by_default_off_a_terminal(run, vae, capsys, no_throttle):
    run(*vae)
    err = capsys.readouterr().err
    assert "%), about" in err, err


def test_evidence_shows_progress_by_default_off_a_terminal(capsys, no_throttle):
    def model(x):
        mu = pyro.sample("mu", dist.Normal(x.new_zeros(()), 1.0))
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(mu, 1.0), obs=x)

    pvae.evidence(model, torch.randn(5, dtype=torch.float64), steps=10, chains=8, seed=0,
                  check_convergence=False)
    assert "%), about" in capsys.readouterr().err


def test_progress_must_be_a_bool():
    with pytest.raises(TypeError, match="progress"):
        pvae.score(pvae.VAE(4, 1), torch.ones(2, 4), ks=(2,), progress="yes")
