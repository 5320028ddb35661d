"""The import graph of pvae: dependencies point down, and no module imports itself back."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "pvae"

#: lowest first; a package may import only from lower layers (and from itself)
LAYERS = [
    {"signatures", "_compat"},
    {"validation", "registry", "independent", "results", "progress", "shipped"},
    {"pair", "randomness", "checked"},
    {"nets", "likelihoods", "priors", "data", "anneal"},
    {"guides"},
    {"objectives"},  # (the VAE's closed form reads the guide, prior and likelihood it writes out)
    {"models", "train", "estimate", "bayes", "posterior"},
    {"selection", "plots", "infer"},
    {"config"},
    {"checkpoint"},
    {"app"},
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_only(tree):
    """The nodes under ``if TYPE_CHECKING:``: imports for the type checker, never run."""
    return {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
            and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
            for statement in block.body for node in ast.walk(statement)}


def imports(path, *, typing=True):
    """The pvae modules (or their members) that ``path`` imports, anywhere in the file.

    ``typing=False`` leaves out the imports under ``if TYPE_CHECKING:``, which never run.
    """
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    tree = ast.parse(path.read_text())
    skipped = set() if typing else type_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found |= {f"{target}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {target for target in found if target.split(".")[0] == "pvae"}


MODULES = {module_name(path): imports(path) for path in PACKAGE.rglob("*.py")}
#: what each module imports when it runs (a circle of type hints alone is harmless)
RUNTIME = {module_name(path): imports(path, typing=False) for path in PACKAGE.rglob("*.py")}


def floor(name):
    """The package (or top-level module) ``name`` lives in; None for the root's own names."""
    parts = name.split(".")
    if len(parts) < 2 or ".".join(parts[:2]) not in MODULES:  # pvae.__version__: the root's
        return None
    return parts[1]


def test_every_package_has_a_layer():
    packages = {floor(name) for name in MODULES} - {None}
    assert packages == set(LEVEL), packages ^ set(LEVEL)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_dependencies_point_down(module):
    here = floor(module)
    if here is None:  # pvae/__init__.py: the public API stands above everything
        return
    for target in MODULES[module]:
        there = floor(target)
        if there is None or there == here:
            continue
        assert LEVEL[there] < LEVEL[here], f"{module} imports {target}: an upward edge"


def resolve(target):
    """The module a ``from X import y`` names: X.y when that is a module, else X."""
    return target if target in MODULES else target.rsplit(".", 1)[0]


def test_no_module_imports_itself_back():
    graph = {name: {resolve(t) for t in targets} - {name} for name, targets in RUNTIME.items()}
    # a package's __init__ importing its own modules is how a package exports them
    graph = {name: {t for t in targets if not name.startswith(t + ".") and t != "pvae"}
             for name, targets in graph.items()}
    visiting, done = [], set()

    def visit(node):
        if node in done:
            return
        assert node not in visiting, " -> ".join([*visiting[visiting.index(node):], node])
        visiting.append(node)
        for nxt in graph.get(node, ()):
            visit(nxt)
        visiting.pop()
        done.add(node)

    for name in graph:
        visit(name)


@pytest.mark.parametrize(("one", "other"), [("train", "estimate"), ("estimate", "train")])
def test_training_and_estimation_never_import_each_other(one, other):
    crossing = {module: sorted(t for t in targets if floor(t) == other)
                for module, targets in MODULES.items() if floor(module) == one}
    assert not any(crossing.values()), {m: t for m, t in crossing.items() if t}


def face(package):
    """The names a package's ``__init__`` binds: what other packages may import from it."""
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom | ast.Import):
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


PACKAGES = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_other_packages_are_reached_through_their_face(module):
    here = floor(module)
    for target in MODULES[module]:
        there, parts = floor(target), target.split(".")
        if there is None or there == here or there not in PACKAGES or len(parts) == 2:
            continue
        assert len(parts) == 3 and parts[2] in face(there) | {"*"}, (
            f"{module} imports {target}: import it from pvae.{there}, its package's face")
