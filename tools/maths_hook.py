r"""An mkdocs hook: every formula becomes MathML when the site is built.

The pages need no script and no network to show their maths: arithmatex's ``\( \)`` and
``\[ \]`` spans, and the numpy docstrings' ``:math:`...``` roles and ``.. math::``
paragraphs that mkdocstrings passes through as text, are converted with ``latex2mathml``
(a PyPI package) and rendered by the browser itself. A formula it cannot convert fails the
build, naming the page.
"""

from __future__ import annotations

import html
import re
from typing import Any

from latex2mathml.converter import convert

INLINE = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.DOTALL)
DISPLAY = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.DOTALL)
ROLE = re.compile(r":math:<code>(.+?)</code>", re.DOTALL)
DIRECTIVE = re.compile(r"<p>\.\. math::(.+?)</p>", re.DOTALL)
#: a command the converter passed through as text
UNKNOWN = re.compile(r">(\\[A-Za-z]+)<")


#: ``\operatorname{arg\,max}``: set upright (the converter sets its letters as italic
#: variables otherwise)
OPERATOR_NAME = re.compile(r"\\operatorname\{([^{}]*)\}")
#: a function's name the converter sets flush against its argument ("logp")
FUNCTION = re.compile(r"(<mi>(?:log|exp|max|min|sup|inf|det|lim|sin|cos|tanh)</mi>)"
                      r"(?!<mo stretchy=\"false\">&#x00028;)")
#: the brace under ``\underbrace{...}``, closing the ``<munder>`` of what it spans
UNDER_BRACE = re.compile(r"<mo>(?:&#x023DF;|&#x23DF;)</mo></munder>")
MUNDER_TAG = re.compile(r"</?munder>")


def _underbraces(mathml: str) -> str:
    """Every ``<munder>X<mo>⏟</mo></munder>`` as ``<mrow class="underbrace">X</mrow>``.

    A browser stretches the brace glyph only with a math font (an OpenType MATH table), which
    a reader may not have; ``stylesheets/maths.css`` draws the brace under the ``mrow``
    instead, as wide as what it spans, with ends and a tip of fixed size.
    """
    while (brace := UNDER_BRACE.search(mathml)) is not None:
        depth, opening = 0, None
        for tag in reversed(list(MUNDER_TAG.finditer(mathml, 0, brace.start()))):
            if tag.group() == "</munder>":
                depth += 1
            elif depth:
                depth -= 1
            else:
                opening = tag
                break
        if opening is None:
            raise ValueError(f"an underbrace without its base in {mathml!r}")
        mathml = (mathml[:opening.start()] + '<mrow class="underbrace">'
                  + mathml[opening.end():brace.start()] + "</mrow>" + mathml[brace.end():])
    return mathml


#: a sum or a product with scripts, as the converter writes it inside ``\left ... \right``
BIG_OPERATOR = re.compile(r"<(msubsup|msub)><mo>(?:&#x02211;|&#x0220F;)</mo>")
SCRIPT_TAG = re.compile(r"</?(?:msubsup|msub)>")


def _limits_under_and_over(mathml: str) -> str:
    r"""In a display formula, every sum's and product's limits below and above it.

    The converter does so for a sum at the top of a formula but writes one inside
    ``\left[ ... \right]`` with side scripts (``msubsup``), as in an inline formula; a
    textbook sets both alike.
    """
    while (operator := BIG_OPERATOR.search(mathml)) is not None:
        tag = operator.group(1)
        depth, closing = 0, None
        for found in SCRIPT_TAG.finditer(mathml, operator.end()):
            if not found.group().startswith("</"):
                depth += 1
            elif depth:
                depth -= 1
            else:
                closing = found
                break
        if closing is None or closing.group() != f"</{tag}>":
            raise ValueError(f"a {tag} without its end in {mathml!r}")
        new = "munderover" if tag == "msubsup" else "munder"
        mathml = (mathml[:operator.start()] + f"<{new}>" + mathml[operator.start() + len(tag) + 2:
                                                                 closing.start()]
                  + f"</{new}>" + mathml[closing.end():])
    return mathml


#: a ``\big(``, ``\bigl[`` ...: a delimiter of one fixed size, which the converter writes as
#: a stretchy operator; Chromium sets a stretchy one with a quarter em of air on each side
SIZED = re.compile(r'<mo(?: (?:stretchy|fence)="[a-z]+")* minsize="([0-9.]+em)" '
                   r'maxsize="\1">')
#: a letter the converter left in a ``mathvariant`` that MathML Core no longer draws
#: (``\mathcal L`` without braces); its Unicode letter draws in every browser
SCRIPT_LETTER = re.compile(r'<mi mathvariant="script">([A-Z])</mi>')
#: ``\sim`` as the converter writes it (an ASCII tilde set as a letter), and as a relation
SIM_AS_LETTER, SIM = "<mi>&#x0007E;</mi>", "<mo>&#x0223C;</mo>"
#: the script capitals that Unicode placed in the Letterlike Symbols block
SCRIPT_EXCEPTIONS = {"B": 0x212C, "E": 0x2130, "F": 0x2131, "H": 0x210B, "I": 0x2110,
                     "L": 0x2112, "M": 0x2133, "R": 0x211B}


def _script(match: re.Match[str]) -> str:
    letter = match.group(1)
    code = SCRIPT_EXCEPTIONS.get(letter, 0x1D49C + ord(letter) - ord("A"))
    return f"<mi>&#x{code:05X};</mi>"


def typeset(mathml: str, *, display: bool = False) -> str:
    """The converter's MathML with a textbook's spacing, limits, letters and underbraces."""
    mathml = FUNCTION.sub(r'\1<mspace width="0.167em" />', mathml)
    mathml = SIZED.sub(r'<mo stretchy="false" lspace="0em" rspace="0em" '
                       r'style="font-size: \1">', mathml)  # a glyph scaled as TeX's \big
    mathml = SCRIPT_LETTER.sub(_script, mathml)
    mathml = mathml.replace(SIM_AS_LETTER, SIM)  # "x ~ N": a relation, spaced as one
    if display:
        mathml = _limits_under_and_over(mathml)
    return _underbraces(mathml)


def to_mathml(tex: str, *, display: bool, page: str) -> str:
    """One formula (HTML-escaped TeX) as MathML."""
    source = OPERATOR_NAME.sub(r"\\mathrm{\1}", html.unescape(tex).strip())
    try:
        mathml = typeset(convert(source, display="block" if display else "inline"),
                         display=display)
    except Exception as error:  # noqa: BLE001 - any converter failure fails the build
        raise ValueError(f"{page}: cannot render the formula {source!r}: {error}") from None
    unknown = UNKNOWN.search(mathml)
    if unknown:
        raise ValueError(f"{page}: the formula {source!r} uses {unknown.group(1)}, which "
                         "latex2mathml does not know; write it another way")
    return mathml


def render(text: str, page: str = "page") -> str:
    """``text`` (a page's HTML) with every formula as MathML."""
    for pattern, display in ((DISPLAY, True), (DIRECTIVE, True), (INLINE, False),
                             (ROLE, False)):
        text = pattern.sub(lambda m, d=display: to_mathml(m.group(1), display=d, page=page),
                           text)
    return text


def on_page_content(html_text: str, page: Any, **_: Any) -> str:
    """Convert a page's formulas (called by mkdocs once its markdown is HTML)."""
    return render(html_text, page.file.src_path)
