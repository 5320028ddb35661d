import pytest
import torch

from pvae import GaussianMixture
from pvae.models.kmeans import kmeans_plusplus


def clusters(k=4, per=50, gap=100.0):
    generator = torch.Generator().manual_seed(0)
    centres = torch.arange(k, dtype=torch.float64)[:, None] * gap * torch.ones(1, 2)
    return (centres.repeat_interleave(per, 0)
            + torch.randn(k * per, 2, generator=generator, dtype=torch.float64))


def test_centres_are_rows_of_the_data_and_reproducible():
    x = clusters()
    first = kmeans_plusplus(x, 3, torch.Generator().manual_seed(5))
    again = kmeans_plusplus(x, 3, torch.Generator().manual_seed(5))
    assert torch.equal(first, again) and first.shape == (3, 2)
    assert all(bool((x == centre).all(-1).any()) for centre in first)


@pytest.mark.parametrize("seed", range(5))
def test_far_clusters_each_get_one_centre(seed):
    # D^2 weighting: once a cluster has a centre, another point in it is ~1e-4 as likely
    x = clusters(k=4, gap=100.0)
    centres = kmeans_plusplus(x, 4, torch.Generator().manual_seed(seed))
    assert sorted(torch.round(centres[:, 0] / 100).tolist()) == [0.0, 1.0, 2.0, 3.0]


def test_duplicated_points_still_give_k_centres():
    x = torch.zeros(10, 2)
    assert kmeans_plusplus(x, 3, torch.Generator().manual_seed(0)).shape == (3, 2)


def test_a_mixture_starts_from_the_same_centres_for_the_same_seed():
    x = clusters().float()
    first, second = GaussianMixture(3), GaussianMixture(3)
    first.initialize(x, torch.Generator().manual_seed(5))
    second.initialize(x, torch.Generator().manual_seed(5))
    torch.testing.assert_close(first.locs.detach(), second.locs.detach())


def test_the_centres_do_not_depend_on_the_dtype_the_data_arrive_in():
    # the draw runs on the CPU in float64, so a float32 (or CUDA) copy picks the same rows
    x = clusters(k=5, gap=3.0)
    wide = kmeans_plusplus(x, 5, torch.Generator().manual_seed(2))
    narrow = kmeans_plusplus(x.float(), 5, torch.Generator().manual_seed(2))
    assert narrow.dtype == torch.float32
    torch.testing.assert_close(narrow.double(), wide, rtol=0, atol=1e-6)


def test_the_greedy_start_is_no_worse_than_single_draws_on_average():
    # scikit-learn's greedy seeding keeps the best of 2 + log k candidates per centre
    x = clusters(k=6, gap=4.0)

    def inertia(centres):
        return float(torch.cdist(x, centres).min(-1).values.pow(2).sum())

    greedy = [inertia(kmeans_plusplus(x, 6, torch.Generator().manual_seed(s))) for s in range(20)]
    uniform = [inertia(x[torch.randperm(len(x), generator=torch.Generator().manual_seed(s))[:6]])
               for s in range(20)]
    assert sum(greedy) < sum(uniform)
