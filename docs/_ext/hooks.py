"""MkDocs hooks: the chapters' maths rendered with no network, and their explorer shown as the
picture it draws where widgets cannot run.

- MathJax 2.7, from the ``jupyter-server-mathjax`` package (the copy JupyterLab serves), is
  copied into the built site under ``assets/mathjax``, and ``mkdocs.yml`` points the chapters
  at it. The site then renders its formulas offline too: on a laptop in a lecture hall, or
  opened from a folder.
- The built-in rows of the rule table are made when the package is imported, so the API
  pages, which are read from the source, cannot list them. The rules page gets their table
  from the table itself: each row's call, what a trace writes for it and for its partials,
  and its own description.
- A built page has no kernel, so a live ``explore()`` widget on it could never move. Its cell
  output also carries the HTML of the explorer at its starting point (the picture, the tables
  and the gradient), and nbconvert shows that when the notebook stores no widget state.
  mkdocs-jupyter asks nbconvert to store it; this hook asks it not to.
"""

from __future__ import annotations

import inspect
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

from mkdocs_jupyter import nbconvert2


def _without_widget_state(make_app: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> Any:
        app = make_app(*args, **kwargs)
        app.config["ExecutePreprocessor"]["store_widget_state"] = False
        return app

    return make


# NOTE: mkdocs-jupyter builds nbconvert's configuration in get_nbconvert_app; if a release
# renames it, this fails at once rather than putting dead widgets on the pages.
if not hasattr(nbconvert2, "get_nbconvert_app"):
    raise RuntimeError("mkdocs-jupyter no longer has nbconvert2.get_nbconvert_app; "
                       "docs/_ext/hooks.py must learn its new name")
nbconvert2.get_nbconvert_app = _without_widget_state(nbconvert2.get_nbconvert_app)


#: The fonts that copy carries are STIX-Web only; told so, as JupyterLab tells it, MathJax uses
#: them instead of looking for TeX fonts that are not there (which misplaces every accent).
FONTS = """MathJax.Hub.Config({
  "HTML-CSS": {availableFonts: [], preferredFont: null, imageFont: null, webFont: "STIX-Web"},
  SVG: {font: "STIX-Web"}
});
MathJax.Ajax.loadComplete("[MathJax]/config/site.js");
"""


#: The engine's function that builds each row of any length; a new such row must be added here,
#: or the build stops with a KeyError that names it.
VARIADIC_MAKERS = {"sum": "total", "dot": "dot"}

#: Where docs/api/rules.md wants the table of the built-in rows.
BUILTIN_ROWS = "<!-- the built-in rows -->"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: its pipes and markup characters escaped."""
    for char in "\\|*_[]":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def builtin_rows() -> str:
    """The built-in rows of the rule table as a Markdown table, read from the table."""
    from autograd_mini import engine
    from autograd_mini.engine import METHODS
    from autograd_mini.rules import RULES

    lines = ["| row | a trace writes | its partials | what it is |", "|---|---|---|---|"]
    for name, rule in RULES.items():
        if not rule.builtin or rule.arity == 0:
            continue
        names = rule.operands or (("x",) if rule.arity == 1 else ("x", "y"))
        if rule.arity < 0:  # a row of any length, made by a function of the engine
            maker = VARIADIC_MAKERS[name]
            params = [p.name if p.default is p.empty else f"{p.name}={p.default!r}"
                      for p in inspect.signature(getattr(engine, maker)).parameters.values()]
            call = f"`{maker}({', '.join(params)})`"
            written = partials = "—"
        else:
            first = len(names) - len(rule.defaults)
            params = [*names[:first], *(f"{n}={d!r}" for n, d in
                                        zip(names[first:], rule.defaults, strict=True))]
            call = f"`{name}({', '.join(params)})`"
            if name in METHODS:
                call += f", `{names[0]}.{name}({', '.join(params[1:])})`"
            written = f"`{rule.text.format(*names)}`"
            partials = ", ".join(f"`{p.format(*names, out='v')}`" for p in rule.partials_text)
        if not rule.function:  # an operator, or an n-ary row made by a function
            call = f"`{name}`, an operator" if rule.arity > 0 else f"`{name}`, by {call}"
        lines.append(f"| {call} | {written} | {partials} | {_cell(rule.doc)} |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if page.file.src_uri != "api/rules.md":
        return markdown
    if BUILTIN_ROWS not in markdown:
        raise RuntimeError(f"docs/api/rules.md has lost its {BUILTIN_ROWS} marker")
    return markdown.replace(BUILTIN_ROWS, builtin_rows())


def on_post_build(config: Any, **kwargs: Any) -> None:
    """Copy MathJax into the site, where ``custom_mathjax_url`` in mkdocs.yml expects it."""
    source = Path(str(files("jupyter_server_mathjax") / "static"))
    if not (source / "MathJax.js").is_file():
        raise RuntimeError(f"MathJax is missing from {source}: reinstall the docs extra")
    target = Path(config["site_dir"]) / "assets" / "mathjax"
    shutil.copytree(source, target, dirs_exist_ok=True)
    (target / "config" / "site.js").write_text(FONTS, encoding="utf-8")
