"""The documentation site: it builds with ``--strict``, holds what a reader comes for, and reads
right in a browser.

``make docs-test`` builds it with ``make docs`` and points ``SITE_DIR`` at ``site/``; without
``SITE_DIR`` the tests build their own copy, as ``make test`` does. The browser part opens four
pages in headless Chromium; ``SITE_SHOTS=folder`` keeps their screenshots.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDES = ("teaching", "visualising", "property-testing", "primitives", "debugging", "semantics",
          "performance")
CHROMIUM = next((p for p in (os.environ.get("CHROMIUM"), shutil.which("chromium"),
                             shutil.which("chromium-browser"), shutil.which("google-chrome"))
                 if p), None)


def _docstrings() -> Any:
    """docs/_ext/docstrings.py, the griffe extension, loaded from its file."""
    pytest.importorskip("griffe", reason="griffe is not installed (the docs extra)")
    spec = importlib.util.spec_from_file_location("site_docstrings",
                                                  ROOT / "docs" / "_ext" / "docstrings.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in docs/
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("SITE_DIR")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").is_file(), f"SITE_DIR={given} holds no built site"
        return path
    pytest.importorskip("mkdocs", reason="MkDocs is not installed (the docs extra)")
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stderr[-4000:]}"
    return out


def _page(site: Path, path: str) -> str:
    file = site / path / "index.html"
    assert file.is_file(), f"the site has no page {path}/"
    return file.read_text(encoding="utf-8")


def _text(page: str) -> str:
    """What a reader sees of a page: no tags, no scripts, entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# --- the docstring rewriter that the API pages go through ----------------------------------


def test_a_doctest_session_becomes_a_code_block() -> None:
    readable = _docstrings().readable
    text = "Square it.\n\n>>> x = 3\n>>> x * x\n9\n\nThen more."
    assert readable(text).splitlines() == [
        "Square it.", "", "```pycon", ">>> x = 3", ">>> x * x", "9", "```", "", "Then more."]


def test_a_session_right_after_its_sentence_is_cut_from_it() -> None:
    readable = _docstrings().readable
    assert readable("For example:\n>>> 1 + 1\n2").splitlines() == [
        "For example:", "```pycon", ">>> 1 + 1", "2", "```"]


def test_an_indented_session_comes_to_the_margin() -> None:
    readable = _docstrings().readable
    assert readable("Like this:\n\n    >>> 2 * 3\n    6").splitlines() == [
        "Like this:", "", "```pycon", ">>> 2 * 3", "6", "```"]


def test_roles_become_code_and_maths_is_not_markup() -> None:
    readable = _docstrings().readable
    out = readable("See :meth:`~autograd_mini.engine.Value.zero_grad` and :func:`grad`: "
                   "J[i][j] = x*y*z, and ``a*b`` stays.")
    assert out == ("See `zero_grad` and `grad`: J\\[i\\]\\[j\\] = x\\*y\\*z, and ``a*b`` "
                   "stays.")


def test_a_note_becomes_an_admonition_and_a_list_gets_its_blank_line() -> None:
    readable = _docstrings().readable
    assert readable("NOTE: intermediate adjoints\nare recomputed.").splitlines() == [
        "!!! note", "    Intermediate adjoints", "    are recomputed."]
    assert readable("Two kinds:\n- one\n- two").splitlines() == [
        "Two kinds:", "", "- one", "- two"]


def test_a_code_span_across_a_line_break_is_kept_whole() -> None:
    readable = _docstrings().readable
    assert readable("Run ``trace \"x1*x2\n--at x1=2\"`` and x*y.") == \
        'Run ``trace "x1*x2\n--at x1=2"`` and x\\*y.'


def test_bold_and_italic_words_stay_markup() -> None:
    readable = _docstrings().readable
    assert readable("**Near an edge.** The z *is* δ, and x*y*z is maths.") == \
        "**Near an edge.** The z *is* δ, and x\\*y\\*z is maths."


def test_a_wrapped_line_that_starts_with_a_sign_is_not_a_list() -> None:
    readable = _docstrings().readable
    assert readable("f = a + 2h\n+ 4h³ + … gives it.").splitlines() == [
        "f = a + 2h", "\\+ 4h³ + … gives it."]


def test_an_args_section_becomes_a_list_and_a_rest_link_a_link() -> None:
    readable = _docstrings().readable
    text = ("Args:\n    name: the op's name,\n        an identifier.\n"
            "    text, latex: templates.")
    assert readable(text).splitlines() == [
        "**Args:**", "", "- `name`: the op's name, an identifier.",
        "- `text`, `latex`: templates."]
    assert readable("An `anywidget <https://anywidget.dev>`_ widget.") == \
        "An [anywidget](https://anywidget.dev) widget."


def test_a_session_in_a_list_item_ends_before_the_next_item() -> None:
    readable = _docstrings().readable
    assert readable("Steps:\n- first\n  >>> 1 + 1\n  2\n- then").splitlines() == [
        "Steps:", "", "- first", "```pycon", ">>> 1 + 1", "2", "```", "- then"]


def test_powers_are_maths_not_bold() -> None:
    readable = _docstrings().readable
    assert readable("x**2 + y**2") == "x\\*\\*2 + y\\*\\*2"


def test_code_is_left_alone() -> None:
    readable = _docstrings().readable
    fenced = "```python\nx = a*b  # J[i]\n```"
    assert readable(fenced) == fenced
    literal = "Written as::\n\n    v1 = x0 * x1"
    assert readable(literal) == "Written as:\n\n    v1 = x0 * x1"


# --- the built site ------------------------------------------------------------------------


def test_the_api_page_of_backward_holds_its_docstring(site: Path) -> None:
    from autograd_mini import Value

    page = _page(site, "api/engine")
    assert 'id="autograd_mini.engine.Value.backward"' in page
    assert Value.backward.__doc__ is not None
    first = Value.backward.__doc__.splitlines()[0]
    assert first.startswith("Accumulate")
    text = " ".join(_text(page).split())
    assert " ".join(first.replace("``", "").split()) in text
    # its doctest is shown as a code block of its own, not as Markdown quotes
    section = page[page.index('id="autograd_mini.engine.Value.backward"'):
                   page.index('id="autograd_mini.engine.Value.zero_grad"')]
    blocks = [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in re.findall(
        r'<div class="highlight">(.*?)</div>', section, flags=re.DOTALL)]
    assert any(block.lstrip().startswith(">>> x = Value(3.0)") and "18.0" in block
               for block in blocks), "the doctest of Value.backward is not a code block"
    assert "<blockquote" not in page
    # its role :meth:`zero_grad` is a link to that entry, found from the method's class
    assert re.search(r'<a [^>]*href="#autograd_mini\.engine\.Value\.zero_grad"[^>]*>'
                     r'<code>zero_grad</code></a>', section)


#: The modules with a page of the API reference; each page documents its module's ``__all__``.
DOCUMENTED = ("engine", "functional", "rules", "errors", "cost", "anomaly", "tables", "viz",
              "steps", "explore", "nn", "losses", "optim", "datasets", "backprop", "report",
              "diagram", "compile", "testing", "testing.oracle", "testing.strategies",
              "testing.program", "testing.pytorch", "testing.forms", "expression", "cli")


def test_every_public_name_has_its_entry(site: Path) -> None:
    import importlib
    import inspect

    ids: set[str] = set()
    for file in (site / "api").rglob("*.html"):
        ids |= set(re.findall(r'id="(autograd_mini[^"]*)"', file.read_text(encoding="utf-8")))
    missing = []
    for name in DOCUMENTED:
        module = importlib.import_module(f"autograd_mini.{name}")
        for public in module.__all__:
            obj = getattr(module, public)
            # a class or function is documented where it is defined, anything else here
            home = getattr(obj, "__module__", "") if inspect.isclass(obj) or \
                inspect.isfunction(obj) else module.__name__
            if f"{home}.{public}" not in ids and f"{module.__name__}.{public}" not in ids:
                missing.append(f"{module.__name__}.{public}")
    assert not missing, f"the API reference has no entry for {missing}"
    pages = {p.stem for p in (ROOT / "docs" / "api").glob("*.md")} - {"index"}
    assert pages == {name.split(".")[0] for name in DOCUMENTED}


def test_the_rules_page_lists_every_built_in_row(site: Path) -> None:
    from autograd_mini.engine import METHODS
    from autograd_mini.rules import RULES

    text = _text(_page(site, "api/rules"))
    for name in METHODS:  # each function row, by its call and its method
        assert f"{name}(" in text, name
        assert f".{name}(" in text, name
    assert "leaky_relu(x, slope=0.01)" in text  # a default, as the row gives it
    for name, rule in RULES.items():
        if rule.builtin and rule.arity:
            assert " ".join(rule.doc.split())[:40] in " ".join(text.split()), name


def test_chapter_one_holds_its_gradient_and_its_pictures(site: Path) -> None:
    page = _page(site, "chapters/01_evaluation_trace")
    text = _text(page)
    # ∂f/∂x1 = x2 (1 + e^(x1 x2)) at (2, 5), worked by hand: 5 (1 + e¹⁰) = 110137.3289…
    assert "110137.329" in text
    # pictures in the cells' outputs, not the icons of the page around them
    pictures = re.findall(r'class="[^"]*jp-OutputArea-output[^"]*"[^>]*>\s*<(?:svg|img)\b',
                          page)
    assert len(pictures) >= 3, f"chapter 1 shows {len(pictures)} pictures, not three or more"
    assert "Traceback" not in text
    assert "assets/mathjax/MathJax.js" in page
    assert (site / "assets" / "mathjax" / "MathJax.js").is_file()


def test_every_chapter_is_a_page(site: Path) -> None:
    for notebook in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        page = _page(site, f"chapters/{notebook.stem}")
        assert re.search(r"In\s*\[1\]:", _text(page)), f"{notebook.name} shows no executed cell"


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_is_a_page(site: Path, guide: str) -> None:
    source = (ROOT / "docs" / "guides" / f"{guide}.md").read_text(encoding="utf-8")
    title = re.search(r"^# (.+)$", source, flags=re.MULTILINE)
    assert title is not None, f"docs/guides/{guide}.md has no title"
    page = _page(site, f"guides/{guide}")
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, flags=re.DOTALL)
    assert heading is not None, f"guides/{guide}/ has no title"
    assert " ".join(_text(heading.group(1)).split()).rstrip(" ¶") == title.group(1).strip()
    # and its body: the first paragraph of the source is on the page
    first = next(p for p in source.split("\n\n")[1:] if p.strip() and p[0].isalpha())
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", first).replace("`", "").replace("*", "")
    needle = re.sub(r"\s+", "", plain)[:50]
    assert needle in re.sub(r"\s+", "", _text(page)), f"guides/{guide}/ lost its text"


def test_the_landing_page_and_the_sources(site: Path) -> None:
    landing = _text(_page(site, ""))
    assert "make demo" in landing
    assert "make test" in landing
    assert re.search(r'<img[^>]+src="trace\.svg"', _page(site, ""))
    sources = _text(_page(site, "sources"))
    assert "Bishop" in sources
    assert "Derivation of Backprop" in sources


def test_no_page_calls_a_source_document_a_seed(site: Path) -> None:
    for file in site.rglob("*.html"):
        if "assets" in file.parts:
            continue
        hit = re.search(r"seed[ -]0\d*", _text(file.read_text(encoding="utf-8")), re.I)
        assert hit is None, f"{file.relative_to(site)} says {hit.group()!r}"


# --- four pages in headless Chromium -------------------------------------------------------


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


PAGES = {
    "landing": "",
    "guide": "guides/debugging/",
    "api": "api/engine/#autograd_mini.engine.Value.backward",
    "chapter": "chapters/01_evaluation_trace/",
}


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (apt-get install "
                                             "chromium); the site's browser test needs one")
def test_four_pages_in_chromium(served: str) -> None:
    pytest.importorskip("playwright", reason="Playwright is not installed")
    from playwright.sync_api import sync_playwright

    shots = os.environ.get("SITE_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking"])
        try:
            for name, path in PAGES.items():
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                errors: list[str] = []
                elsewhere: list[str] = []
                page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                page.on("request", lambda request, elsewhere=elsewhere: elsewhere.append(
                    request.url) if not request.url.startswith(("http://127.0.0.1", "data:",
                                                                "blob:", "about:")) else None)
                page.goto(served + path, wait_until="load")
                if name == "chapter":
                    # MathJax typesets every formula: none is left as $…$ source
                    page.wait_for_function("() => window.MathJax && MathJax.Hub && "
                                           "MathJax.Hub.queue.pending === 0 && "
                                           "document.querySelectorAll('.MathJax').length > 20",
                                           timeout=60_000)
                    raw = page.evaluate("() => [...document.querySelectorAll('.jp-Markdown"
                                        "Output')].some(e => /\\$[^$\\s][^$]*\\$/.test("
                                        "e.innerText))")
                    assert not raw, "a formula of chapter 1 was left as TeX source"
                for image in page.query_selector_all("article img"):
                    loaded = image.evaluate("i => i.complete && i.naturalWidth > 0")
                    assert loaded, f"{name}: an image did not load: {image.get_attribute('src')}"
                heading = page.inner_text("article h1")
                assert heading.strip(), f"{name}: the page has no title"
                if name == "api":
                    assert page.is_visible("[id='autograd_mini.engine.Value.backward']")
                assert not errors, f"{name}: the page raised {errors}"
                assert not elsewhere, f"{name}: the page asks other hosts for {elsewhere}"
                if shots:
                    page.wait_for_timeout(600)  # the header's title has stopped moving
                    page.screenshot(path=str(Path(shots) / f"{name}.png"))
                page.close()
        finally:
            browser.close()
