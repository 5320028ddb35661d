import inspect

import pytest

from pvae.signatures import signature_of


class Model:
    def model(self, x, num_data=None):
        return x


def test_a_bound_method_has_its_signature_without_self():
    first, second = Model(), Model()
    assert signature_of(first.model) == inspect.signature(first.model)
    assert str(signature_of(second.model)) == "(x, num_data=None)"


def test_functions_classes_and_unhashable_callables():
    class Unhashable:
        __hash__ = None

        def __call__(self, y, *, z=1):
            return y

    assert str(signature_of(lambda a, b=2: a)) == "(a, b=2)"
    assert str(signature_of(Model)) == "()"
    assert str(signature_of(Unhashable())) == "(y, *, z=1)"
    with pytest.raises(TypeError):
        signature_of(3)
