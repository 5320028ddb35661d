import numpy as np
from sklearn.datasets import make_blobs

from pvae import choose_components
from pvae.selection import format_table


def test_bic_and_heldout_likelihood_choose_the_true_k():
    x, _ = make_blobs(n_samples=900, centers=3, n_features=2, cluster_std=0.8, random_state=1)
    rows = choose_components(x[:600], x[600:], range(1, 6), n_init=2)
    assert min(rows, key=lambda r: r.bic).k == 3
    assert max(rows, key=lambda r: r.heldout_log_likelihood).k in (3, 4)
    train = [r.train_log_likelihood for r in rows]
    assert np.all(np.diff(train) > -1e-3)  # more components never fit the training data worse
    table = format_table(rows)
    assert table.count("\n") == 6 and "| 3 |" in table and "*" in table
