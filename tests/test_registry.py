import pytest

from pvae.registry import Registry, UnknownNameError, merge_spec


class Part:
    def __init__(self, size=1, shape="round"):
        self.size = size
        self.shape = shape


@pytest.fixture
def registry():
    parts = Registry("part", Part)
    parts.register("plain")(Part)
    parts.register("big")(lambda size=10: Part(size=size))
    return parts


def test_resolves_name_spec_and_object(registry):
    assert registry.resolve("plain").size == 1
    assert registry.resolve({"name": "plain", "size": 3, "shape": "flat"}).shape == "flat"
    ready = Part(size=7)
    assert registry.resolve(ready) is ready
    assert registry.names() == ["big", "plain"]
    assert "big" in registry


def test_unknown_name_lists_the_known_ones_and_suggests(registry):
    with pytest.raises(UnknownNameError, match=r"unknown part 'plian'.*'plain'.*big, plain"):
        registry.resolve("plian")


def test_unknown_option_lists_the_options(registry):
    with pytest.raises(UnknownNameError, match=r"no option 'sise'.*'size'.*size, shape"):
        registry.resolve({"name": "plain", "sise": 2})


def test_spec_without_name_and_wrong_type(registry):
    with pytest.raises(UnknownNameError, match="needs a 'name' key"):
        registry.resolve({"size": 2})
    with pytest.raises(TypeError, match="must be a name, a spec dict or a Part"):
        registry.resolve(3.0)


def test_duplicate_registration_is_refused(registry):
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("plain")(Part)


def test_a_spec_for_another_name_drops_the_old_parts_settings():
    lightning = {"name": "lightning", "devices": 2}
    assert merge_spec(lightning, {"name": "pvae"}) == "pvae"
    assert merge_spec(lightning, {"strategy": "ddp"}) == {**lightning, "strategy": "ddp"}
    assert merge_spec("lightning", {"name": "lightning"}) == "lightning"
