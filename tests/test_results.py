"""Every result prints in a few lines: its value, standard error, count and unit."""

import math

import pytest
import torch

import pvae
from pvae.bayes import BayesFactor, Evidence, EvidenceSandwich
from pvae.estimate import (
    AISEstimate,
    Comparison,
    Estimate,
    Gaps,
    Holes,
    LatentUsage,
    Sandwich,
    Scores,
    Simulated,
)
from pvae.estimate.holes import HoleDistances
from pvae.results import short_repr
from pvae.selection import ComponentChoice
from pvae.train import FitResult, History

N = 300


def per_datapoint(seed, mean=-22.1):
    return mean + torch.randn(N, generator=torch.Generator().manual_seed(seed))


def estimate(name="iwae-10", seed=0, value=-22.104312, stderr=0.0812345):
    return Estimate(name, value, stderr, per_datapoint(seed), 10)


def ais_estimate(value=-21.9876543, stderr=0.0456789):
    return AISEstimate("ais-100", value, stderr, per_datapoint(1), 16,
                       acceptance=torch.rand(N), ess=torch.rand(N) * 16,
                       step_size=torch.rand(N))


def evidence(value=-29.701234, stderr=0.271828):
    return Evidence(name="ais-1000", value=value, stderr=stderr, num_data=50,
                    log_weights=torch.randn(512), acceptance=0.65, ess=11.5)


def distances(share_seed):
    return HoleDistances(torch.rand(2000, generator=torch.Generator().manual_seed(share_seed)),
                         0.25, 0.9)


RESULTS = {
    "Estimate": (estimate(), ["-22.1043", "0.0812345", "num_samples=10",
                              "nats per datapoint", "tensor(shape=(300,), mean="]),
    "AISEstimate": (ais_estimate(), ["-21.9877", "0.0456789", "num_samples=16"]),
    "Scores": (Scores(None, estimate("elbo", 2, -23.5, 0.09),
                      tuple(estimate(f"iwae-{k}", k, -22 - 1 / k, 0.08) for k in (1, 10, 100,
                                                                                 1000))),
               ["value=-23.5", "stderr=0.09", "name='iwae-1000'", "value=-22.001"]),
    "Simulated": (Simulated(torch.rand(N, 64), torch.randn(N, 2)),
                  ["tensor(shape=(300, 64), mean="]),
    "Sandwich": (Sandwich(Simulated(torch.rand(N, 64), torch.randn(N, 2)),
                          ais_estimate(-21.98, 0.04), ais_estimate(-21.91, 0.03),
                          estimate("elbo", 3, -23.0, 0.1), (estimate(),)),
                 ["value=-21.98", "stderr=0.04", "width=0.07"]),
    "Gaps": (Gaps(estimate("exact", 4, -21.5, 0.07), estimate("elbo", 5, -23.0, 0.1),
                  estimate("local-elbo", 6, -22.6, 0.09),
                  estimate("approximation", 7, 1.1, 0.011), estimate("amortization", 8, 0.4,
                                                                     0.006),
                  torch.zeros(0, dtype=torch.int64)),
             ["value=1.1", "stderr=0.011", "value=0.4", "stderr=0.006"]),
    "LatentUsage": (LatentUsage(8.18, torch.rand(8), torch.rand(8), 4, 4.9, 3.3,
                                "closed form KL"), ["kl=8.18", "active_units=4"]),
    "HoleDistances": (distances(0), ["spacing=0.25", "share="]),
    "Holes": (Holes(distances(1), distances(2), 0.83, torch.randn(N, 2), torch.randn(2000, 2),
                    "codes drawn once " * 20), ["coverage=0.83", "spacing=0.25", "share="]),
    "Comparison": (Comparison("vae", estimate(), -0.35, 0.021),
                   ["difference=-0.35", "difference_stderr=0.021", "value=-22.1043"]),
    "BayesFactor": (BayesFactor("normal", evidence(), -3.25, 0.41),
                    ["log_bayes_factor=-3.25", "stderr=0.41", "value=-29.7012"]),
    "Evidence": (evidence(), ["value=-29.7012", "stderr=0.271828", "num_data=50",
                              "nats for the whole data set"]),
    "EvidenceSandwich": (EvidenceSandwich(torch.randn(50, 3), {"mu": torch.randn(3)},
                                          evidence(-29.75, 0.2), evidence(-29.6, 0.25)),
                         ["value=-29.75", "stderr=0.2", "value=-29.6", "width=0.15"]),
    "FitResult": (FitResult(losses=[23.3 - i / 1000 for i in range(3000)], method="svi",
                            num_data=N, converged=True, seconds=5.25, device="cpu",
                            history=History(epoch=list(range(1, 41)), loss=[1.0] * 40)),
                  ["losses=[3000 values, first 23.3, last 20.301]", "num_data=300",
                   "seconds=5.25", "final_loss=20.301", "History(epoch=[40 values"]),
    "ComponentChoice": (ComponentChoice(3, 1234.5, -4.25, -4.5),
                        ["k=3", "bic=1234.5", "heldout_log_likelihood=-4.5"]),
}


@pytest.mark.parametrize("kind", sorted(RESULTS))
def test_every_result_prints_its_numbers_in_a_few_lines(kind):
    result, shown = RESULTS[kind]
    text = repr(result)
    lines = text.splitlines()
    assert len(lines) <= 15, text
    assert max(map(len, lines)) <= 160, text
    assert lines[0] == f"{kind}(", text
    for part in shown:
        assert part in text, (part, text)


def test_a_tensor_is_summarised_and_stays_whole_as_an_attribute():
    result = estimate()
    assert f"mean={float(result.per_datapoint.mean()):.4g}" in repr(result)
    assert result.per_datapoint.shape == (N,)
    assert "tensor([1.5, 2])" in short_repr(Simulated(torch.tensor([1.5, 2.0]),
                                                      torch.zeros(2, 2)))
    flags = short_repr(Simulated(torch.ones(10, dtype=torch.bool), torch.full((5,), math.nan)))
    assert "dtype=torch.bool, true=10" in flags and "mean=nan" in flags
    empty = repr(FitResult([], "svi", 0, None, 0.0, "cpu"))  # no final loss to show
    assert "losses=[]" in empty and "final_loss" not in empty
    with pytest.raises(TypeError, match="a dataclass or a NamedTuple"):
        short_repr({"value": 1.0})


def test_printing_a_score_and_a_fit_shows_the_numbers_not_the_tensors():
    x = pvae.data.digits().test[:120]
    model = pvae.LinearGaussian(dim=64, z_dim=2)
    fitted = pvae.fit(model, x, steps=30, lr=0.05, progress=False)
    scores = pvae.score(model, x, ks=(1, 10, 100))
    for result in (fitted, scores):
        text = repr(result)
        assert len(text.splitlines()) <= 15 and "\n        -" not in text, text
    assert f"{scores.exact.value:.6g}" in repr(scores)
    assert f"{scores.exact.stderr:.6g}" in repr(scores)
