import re
from pathlib import Path

import pytest

import pvae
from pvae.pair import hooks

HOOKS = ("objective", "check_data", "initialize", "m_step", "log_likelihood", "kl_weight",
         "x_shape", "closed_form_elbo")
PACKAGE = Path(pvae.__file__).parent


def test_each_accessor_reads_its_hook_and_nothing_else():
    vae, mixture = pvae.VAE((4,), 2), pvae.GaussianMixture(2)
    assert hooks.objective_hook(vae)() is vae.objective()
    assert hooks.data_check(vae) == vae.check_data
    assert hooks.kl_weighted(vae) and hooks.kl_weight_of(vae) == vae.beta
    assert hooks.x_shape_of(vae) == (4,)
    assert hooks.m_step_of(mixture) == mixture.m_step
    assert hooks.exact_log_likelihood(mixture) == mixture.log_likelihood
    assert hooks.m_step_of(vae) is None and hooks.exact_log_likelihood(vae) is None
    assert not hooks.kl_weighted(mixture) and hooks.x_shape_of(mixture) is None


def test_a_hook_that_is_not_callable_counts_as_absent():
    class Odd:
        objective = check_data = initialize = m_step = log_likelihood = 3

    for accessor in (hooks.objective_hook, hooks.data_check, hooks.initializer,
                     hooks.m_step_of, hooks.exact_log_likelihood):
        assert accessor(Odd()) is None


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_but_the_hooks_looks_a_hook_up_by_name(path):
    if path.name == "hooks.py":
        return
    pattern = re.compile(r"(getattr|hasattr)\(\w+, \"(" + "|".join(HOOKS) + r")\"")
    assert not pattern.search(path.read_text()), f"{path}: use pvae.pair.hooks"
