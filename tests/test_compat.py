"""Private names of torch, Pyro and ``nn.Module`` are used in ``pvae/_compat.py`` only, and few.

A private name is one with a leading underscore that is not a dunder: an attribute of any
object but ``self``/``cls`` (``torch._foo``, ``module._buffers``, ``super()._get_trace``), a
name imported from a dependency (``from torch._ops import ...``, ``import torch._dynamo``), or
a string key that reaches one (``vars(m)["_modules"]``, ``m.__dict__.get("_x")``,
``getattr(m, "_x")``). NamedTuple's documented ``_replace``, ``_fields``, ``_asdict``,
``_make`` and ``_field_defaults`` are not private; neither is pvae's own relative import.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "pvae"
COMPAT = PACKAGE / "_compat.py"
#: the most distinct private names _compat may hold: each is a debt an upgrade can call in
MOST = 10
#: NamedTuple's public API, underscored so that it cannot clash with a field's name
NAMEDTUPLE = frozenset({"_replace", "_fields", "_asdict", "_make", "_field_defaults"})
#: the calls that take an attribute's name as their second argument
BY_NAME = frozenset({"getattr", "hasattr", "setattr", "delattr"})
#: the dict methods that take a key as their first argument
BY_KEY = frozenset({"get", "pop", "setdefault"})


def is_private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and not dunder and name not in NAMEDTUPLE


def is_own(node: ast.expr) -> bool:
    """``self``, ``cls``, or their ``__dict__`` / ``vars(self)``: the object's own names."""
    if isinstance(node, ast.Name):
        return node.id in ("self", "cls")
    if isinstance(node, ast.Attribute) and node.attr == "__dict__":
        return is_own(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "vars":
        return len(node.args) == 1 and is_own(node.args[0])
    return False


def private_key(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and is_private(node.value):
        return node.value
    return None


def private_uses(source: str) -> list[tuple[int, str]]:
    """Each use of a private name of another object in ``source``: ``(line, name)``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str | None] = []
        if isinstance(node, ast.Attribute) and is_private(node.attr) and not is_own(node.value):
            names = [node.attr]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [part for part in (node.module or "").split(".") if is_private(part)]
            names += [alias.name for alias in node.names if is_private(alias.name)]
        elif isinstance(node, ast.Import):
            names = [part for alias in node.names for part in alias.name.split(".")
                     if is_private(part)]
        elif isinstance(node, ast.Subscript) and not is_own(node.value):
            names = [private_key(node.slice)]
        elif isinstance(node, ast.Call) and node.args:
            function, first = node.func, node.args[0]
            if isinstance(function, ast.Name) and function.id in BY_NAME and len(node.args) > 1:
                names = [None if is_own(first) else private_key(node.args[1])]
            elif isinstance(function, ast.Attribute) and function.attr in BY_KEY:
                names = [None if is_own(function.value) else private_key(first)]
        found += [(node.lineno, name) for name in names if name]
    return sorted(found)


MODULES = sorted(path for path in PACKAGE.rglob("*.py") if path != COMPAT)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_but_compat_uses_a_private_name(path):
    uses = private_uses(path.read_text())
    assert not uses, (f"{path.relative_to(PACKAGE.parent)} uses private names "
                      f"{uses}: use a public API, or add one function to pvae/_compat.py")


def own_private_uses(source: str) -> set[str]:
    """What _compat's own classes reach of their Pyro bases: ``self._x`` and ``def _x``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and is_private(node.attr) and is_own(node.value):
            found.add(node.attr)
        elif isinstance(node, ast.FunctionDef) and is_private(node.name):
            found.add(node.name)  # (an override of a base class's private hook)
    return found


def test_compat_holds_few_private_names():
    source = COMPAT.read_text()
    names = {name for _, name in private_uses(source)} | own_private_uses(source)
    assert 0 < len(names) <= MOST, sorted(names)


@pytest.mark.parametrize("source", [
    "import torch\ntorch._amp_foreach_non_finite_check_and_unscale_(grads, found, one)",
    "constraint = module._pyro_params[name][0]",
    "class ELBO(Trace_ELBO):\n    def f(self):\n        return super()._get_trace(1, 2, 3, 4)",
    "from torch._ops import OpOverload",
    "from torch.utils import _pytree",
    "import torch._dynamo",
    "children = vars(net)['_modules']",
    "buffers = net.__dict__['_buffers']",
    "params = state.get('_pyro_params', {})",
    "flag = getattr(module, '_is_full_backward_hook')",
    "def f(node):\n    return node.target._schema",
], ids=["torch-function", "attribute", "super", "from-module", "from-name", "import-module",
        "vars-key", "dict-key", "get-key", "getattr", "attribute-chain"])
def test_a_planted_private_use_is_found(source):
    assert private_uses(source)


@pytest.mark.parametrize("source", [
    "class A:\n    def f(self):\n        return self._x + cls._y + self.__dict__['_z']",
    "made = self.__dict__.get('_made_for')\nvars(self)['_w'] = 1",
    "point = point._replace(x=1)\nnames = Point._fields\nrow = p._asdict()",
    "from ._compat import module_registries\nfrom .base import _helper",
    "name = type(x).__name__\nx.__dict__.update(y)",
    "options = {'_private_looking': 1}\nvalue = options.get('public')",
], ids=["self-cls", "own-dict", "namedtuple", "relative", "dunder", "own-literal"])
def test_what_is_not_a_private_use_is_not_found(source):
    assert not private_uses(source)
