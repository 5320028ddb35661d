"""The built documentation as a reader gets it: no raw TeX, no raw Sphinx roles."""

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .test_docs import strict_docs_command

ROOT = Path(__file__).parent.parent
#: what a page must not show as text: TeX delimiters or commands, Sphinx roles
LEFTOVER = re.compile(r"\\\(|\\\[|\$\$|\\(?:frac|log|sum|mathbb|underbrace|operatorname)\b"
                      r"|:(?:func|class|data|mod|meth|attr|exc|math):")


def visible_text(page):
    """The page's text outside <math>, <code>, <pre> and <script> (where TeX may stay)."""
    text = re.sub(r"<(math|code|pre|script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", text)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    argv, environment = strict_docs_command()
    subprocess.run([*argv, "--site-dir", str(out)], cwd=ROOT, env=environment, check=True,
                   capture_output=True, timeout=600)
    return out


def test_no_page_shows_raw_tex_or_roles(site):
    found = {}
    for page in site.rglob("*.html"):
        hits = LEFTOVER.findall(visible_text(page.read_text()))
        if hits:
            found[str(page.relative_to(site))] = sorted(set(hits))[:5]
    assert not found, found


def test_every_underbrace_is_drawn_by_the_stylesheet(site):
    pages = {str(page.relative_to(site)): page.read_text() for page in site.rglob("*.html")}
    assert not [name for name, text in pages.items() if "&#x23DF;" in text]  # no glyph left
    assert sum(text.count('<mrow class="underbrace">') for text in pages.values()) >= 8
    assert "mrow.underbrace" in (site / "stylesheets" / "maths.css").read_text()
    assert "stylesheets/maths.css" in (site / "gaps" / "index.html").read_text()


def api_headings(site):
    """Each API page's documented objects: the ids of its mkdocstrings headings."""
    heading = re.compile(r'<h[2-6] id="([^"]+)" class="doc doc-heading"')
    return {page.parent.name: heading.findall(page.read_text())
            for page in (site / "api").glob("*/index.html")}


def test_roles_in_docstrings_become_links(site):
    api = "".join(page.read_text() for page in (site / "api").glob("*/index.html"))
    assert '<a class="autorefs autorefs-internal"' in api


def test_the_api_reference_has_a_page_per_topic_and_each_object_once(site):
    headings = api_headings(site)
    assert {"models", "fitting", "estimates", "evidence", "mcmc", "data", "plotting", "cli",
            "fast_paths"} <= set(headings)
    every = [name for names in headings.values() for name in names]
    assert len(every) == len(set(every)), sorted({n for n in every if every.count(n) > 1})
    # a public function is its own heading, not the module of the same name with its helpers
    for page, name in [("estimates", "pvae.ais"), ("estimates", "pvae.bdmc"),
                       ("estimates", "pvae.gaps"), ("estimates", "pvae.compare"),
                       ("evidence", "pvae.evidence"), ("evidence", "pvae.bayes_factors"),
                       ("mcmc", "pvae.mcmc"), ("fitting", "pvae.fit")]:
        assert name in headings[page], (page, name)
    hidden = re.compile(r"\.(_|check_settings$|anneal_rows$|log_mean_exp$)")
    assert [name for name in every if hidden.search(name)] == []
    text = (site / "api" / "estimates" / "index.html").read_text()
    assert 'id="pvae.ais"' in text and "doc-signature" in text


def hook(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_maths_is_typeset_with_a_textbooks_spacing_and_stretchy_braces():
    maths = hook("maths_hook")
    log = maths.to_mathml(r"\log p(x)", display=False, page="p")
    assert '<mi>log</mi><mspace width="0.167em" /><mi>p</mi>' in log
    assert "<mspace" not in maths.to_mathml(r"\log(x)", display=False, page="p")
    argmax = maths.to_mathml(r"\operatorname{arg\,max}_\theta f", display=False, page="p")
    assert '<mi mathvariant="normal">a</mi>' in argmax and "<msub><mrow>" in argmax
    brace = maths.to_mathml(r"x = \underbrace{a + \underbrace{b}_{d}}_{c} + e", display=True,
                            page="p")
    assert brace.count('<mrow class="underbrace">') == 2 and "&#x23DF;" not in brace
    assert brace.count("<munder>") == brace.count("</munder>") == 2  # base, then label
    assert '<mrow class="underbrace"><mrow><mi>a</mi>' in brace
    inside = r"\left[\log \frac1k \sum_{j=1}^k w_j\right] + \left(\sum_i x_i\right)"
    limits = maths.to_mathml(inside, display=True, page="p")  # below and above, as in a book
    assert "<munderover><mo>&#x02211;</mo>" in limits and "<munder><mo>&#x02211;</mo>" in limits
    assert "msubsup" not in limits
    assert "<msubsup><mo>&#x02211;</mo>" in maths.to_mathml(inside, display=False, page="p")
    big = maths.to_mathml(r"\mathrm{KL}\big(q \,\|\, p\big) + \widehat{\mathcal L}", display=True,
                          page="p")
    assert big.count('<mo stretchy="false" lspace="0em" rspace="0em" style="font-size: 1.2em">'
                     ) == 2 and "minsize" not in big  # a scaled glyph, without a stretchy's air
    assert "&#x02112;" in big and 'mathvariant="script"' not in big  # a script L
    assert "<mi>z</mi><mo>&#x0223C;</mo><mi>q</mi>" in maths.to_mathml(r"z \sim q", display=False,
                                                                     page="p")


def test_roles_become_code_and_links():
    roles = hook("roles_hook")
    assert roles.render(":func:<code>pvae.fit</code>") == (
        '<autoref identifier="pvae.fit" optional><code>pvae.fit</code></autoref>')
    assert roles.render(":class:<code>~pvae.train.FitOptions</code>").endswith(
        "<code>FitOptions</code></autoref>")
    assert roles.render(":mod:<code>.lightning</code>") == "<code>lightning</code>"


def test_the_site_brings_its_maths_font_and_fetches_no_web_font(site):
    css = (site / "stylesheets" / "maths.css").read_text()
    assert 'url("../fonts/latinmodern-math.otf")' in css and "font-family" in css
    font = (site / "fonts" / "latinmodern-math.otf").read_bytes()
    assert font[:4] == b"OTTO" and b"MATH" in font[:1024]  # an OpenType font with a MATH table
    assert (site / "fonts" / "GUST-FONT-LICENSE.txt").is_file()
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page


def test_the_sitemap_and_the_404_page_know_the_sites_address(site):
    assert "<loc>https://pvae.readthedocs.io/en/latest/maths/</loc>" in (
        site / "sitemap.xml").read_text()
    assert 'href="/en/latest/assets/' in (site / "404.html").read_text()


def test_the_tutorial_is_one_click_from_home_and_its_notebooks_download(site):
    home = (site / "index.html").read_text()
    assert 'href="tutorial/"' in home
    steps = sorted((site / "tutorial").glob("[0-9][0-9]_*/index.html"))
    assert len(steps) >= 8
    for page in steps:
        text = page.read_text()
        name = page.parent.name
        assert f'href="../{name}.ipynb" download' in text, name
        notebook = json.loads((site / "tutorial" / f"{name}.ipynb").read_text())
        assert notebook["nbformat"] == 4 and notebook["cells"], name
        for image in re.findall(r'<img[^>]+src="([^"]+)"', text):
            assert (page.parent / image).resolve().is_file(), (name, image)
    assert not list((site / "tutorial").rglob("*.json"))  # the run records stay out


#: a link to a file of the site (not a scheme, not an anchor alone, not the site's own address)
LOCAL_LINK = re.compile(r"""(?:href|src)="(?![a-z][a-z0-9+.-]*:|#|//)([^"#?]*)""")


def site_path():
    """The path of the site's address (``site_url``): where absolute links start."""
    for line in (ROOT / "mkdocs.yml").read_text().splitlines():
        if line.startswith("site_url:"):
            return urlparse(line.split(":", 1)[1].split(" #")[0].strip()).path or "/"
    return "/"


def broken_links(site, root="/"):
    """Every (page, target) whose local href or src names no file of the built site."""
    broken = []
    for page in site.rglob("*.html"):
        for target in LOCAL_LINK.findall(page.read_text(errors="replace")):
            if not target:
                continue
            if target.startswith("/"):  # (the 404 page's links start at the site's address)
                if not target.startswith(root):
                    broken.append((str(page.relative_to(site)), target))
                    continue
                resolved = (site / target[len(root):]).resolve()
            else:
                resolved = (page.parent / target).resolve()
            if resolved.is_dir():
                resolved = resolved / "index.html"
            if not resolved.exists():
                broken.append((str(page.relative_to(site)), target))
    return broken


def test_every_local_link_of_the_site_resolves(site):
    assert broken_links(site, site_path()) == []


def test_the_link_check_finds_a_broken_link(tmp_path):
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "index.html").write_text(
        '<a href="../other/">x</a> <img src="figure.png"> <a href="https://x.org/">y</a>'
        ' <a href="#top">z</a> <a href="/en/latest/other/">w</a> <a href="/elsewhere/">v</a>')
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "index.html").write_text("")
    assert sorted(broken_links(tmp_path, "/en/latest/")) == [
        ("page/index.html", "/elsewhere/"), ("page/index.html", "figure.png")]
