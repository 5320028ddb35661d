"""score_table: several models' best estimates, their paired differences, as markdown and rows."""

import pytest
import torch

import pvae
from pvae.data import binarize, digits


@pytest.fixture(scope="module")
def study():
    split = digits()
    train, test = binarize(split.train[:200], seed=0), binarize(split.test[:40], seed=1)
    models = {}
    for number, prior in enumerate(("normal", "mog")):
        pair = pvae.VAE(64, 2, prior=prior, seed=number)
        pvae.fit(pair, train, epochs=2, batch_size=50, seed=0, progress=False)
        models[prior] = pair
    return models, test


def test_rows_are_the_best_estimates_and_their_paired_differences(study):
    models, x = study
    table = pvae.score_table(models, x, ks=(5, 20), seed=3, progress=False)
    estimates = {name: pvae.iwae(pair, x, 20, seed=3, progress=False)
                 for name, pair in models.items()}
    expected = pvae.compare(estimates)
    assert [row.model for row in table.rows] == [row.name for row in expected]
    for row, want in zip(table.rows, expected, strict=True):
        assert row.estimator == "iwae-20"
        assert row.value == pytest.approx(want.estimate.value)
        assert row.stderr == pytest.approx(want.estimate.stderr)
        assert row.difference == pytest.approx(want.difference)
        assert row.difference_stderr == pytest.approx(want.difference_stderr)
        assert row.p_value == pytest.approx(want.p_value)
    text = table.markdown()
    assert str(table) == text
    assert text.splitlines()[0].startswith("| model | estimator | log p(x) |")
    assert f"| {table.rows[0].model} | iwae-20 |" in text


def test_an_exact_likelihood_is_preferred_and_seeds_pool(study):
    models, x = study
    gaussians = []
    for seed in (0, 1):
        pair = pvae.LinearGaussian(64, 2)
        pvae.fit(pair, x, steps=5, seed=seed, progress=False)
        gaussians.append(pair)
    table = pvae.score_table({"vae": models["normal"], "ppca": gaussians}, x, ks=(5,),
                             progress=False)
    rows = {row.model: row for row in table.rows}
    assert rows["ppca"].estimator == "exact" and rows["ppca"].seeds == 2
    assert rows["vae"].estimator == "iwae-5" and rows["vae"].seeds == 1
    assert "seeds" in table.markdown()


@pytest.mark.parametrize("models, message", [
    ({}, "at least two models"),
    (["a"], "dict of model name -> fitted pair"),
    ({"a": 1, "b": 2}, "'a' is not a fitted pair"),
])
def test_bad_input_is_one_line(models, message, study):
    _, x = study
    with pytest.raises((TypeError, ValueError), match=message) as raised:
        pvae.score_table(models, x)
    assert "\n" not in str(raised.value)


def test_bad_data_names_the_model(study):
    models, _ = study
    with pytest.raises(pvae.DataError):
        pvae.score_table(models, torch.ones(3, 5))
