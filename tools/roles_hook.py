r"""An mkdocs hook: the docstrings' Sphinx roles become code that links where it can.

mkdocstrings passes ``:func:`pvae.fit``` through as text, which a reader sees as
``:func:`` before the name. Each role (``func``, ``class``, ``data``, ``mod``, ``meth``,
``attr``, ``exc``, ``obj``) becomes the name in code, wrapped in an optional cross-reference
that mkdocs-autorefs turns into a link when the name has a page; ``~`` shows the last part
only, as in Sphinx. ``:math:`` is the maths hook's.
"""

from __future__ import annotations

import html
import re
from typing import Any

ROLE = re.compile(r":(?:func|class|data|mod|meth|attr|exc|obj):<code>(.+?)</code>")


def _reference(match: re.Match[str]) -> str:
    target = html.unescape(match.group(1)).strip()
    short = target.startswith("~")
    target = target.lstrip("~")
    shown = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
    code = f"<code>{html.escape(shown)}</code>"
    if target.startswith(".") or "." not in target:  # relative or bare: no page to link
        return code
    return f'<autoref identifier="{html.escape(target)}" optional>{code}</autoref>'


def render(text: str) -> str:
    """``text`` (a page's HTML) without raw roles."""
    return ROLE.sub(_reference, text)


def on_page_content(html_text: str, **_: Any) -> str:
    """Rewrite the roles of a page once its markdown is HTML."""
    return render(html_text)
