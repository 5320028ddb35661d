"""A griffe extension: a public name of ``pvae`` means the object, never a module of that name.

``pvae.estimate`` imports ``ais`` from its module ``ais.py`` (``from .ais import ais``), as
Python packages often do. At run time the function wins (the import rebinds the name), but
griffe keeps the submodule under that name, so ``::: pvae.ais`` in a page would document the
module ``pvae.estimate.ais``: every helper in it, and the function last. This extension
re-points each alias of a package (``pvae.ais`` and ``pvae.estimate.ais``, ``pvae.mcmc``, ...)
whose target is a module holding a member of the same name to that member, as Python does.
The modules stay reachable by their full path (``pvae.estimate.ais.check_settings``).
"""

from __future__ import annotations

from typing import Any

import griffe


def _same_named_member(target: griffe.Object | griffe.Alias) -> str | None:
    """The path of ``target.name`` inside ``target``, when ``target`` is such a module."""
    if not target.is_module or target.name not in target.members:
        return None
    return f"{target.path}.{target.name}"


class PublicNames(griffe.Extension):
    """Re-point the aliases of a loaded package to the same-named member of their module."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader,
                   **_: Any) -> None:
        """Walk the package's modules once it is loaded."""
        modules = [pkg]
        while modules:
            module = modules.pop()
            for name, member in list(module.members.items()):
                if member.is_alias:
                    try:
                        path = _same_named_member(member.final_target)
                    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                        continue
                    if path is not None:
                        module.set_member(name, griffe.Alias(name, path, parent=module))
                elif member.is_module:
                    modules.append(member)
