"""MkDocs hooks: the chapters' maths rendered with no network, and their explorer shown as the
picture it draws where widgets cannot run.

- MathJax 2.7, from the ``jupyter-server-mathjax`` package (the copy JupyterLab serves), is
  copied into the built site under ``assets/mathjax``, and ``mkdocs.yml`` points the chapters
  at it. The site then renders its formulas offline too: on a laptop in a lecture hall, or
  opened from a folder.
- A built page has no kernel, so a live ``explore()`` widget on it could never move. Its cell
  output also carries the HTML of the explorer at its starting point (the picture, the tables
  and the gradient), and nbconvert shows that when the notebook stores no widget state.
  mkdocs-jupyter asks nbconvert to store it; this hook asks it not to.
"""

from __future__ import annotations

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


def on_post_build(config: Any, **kwargs: Any) -> None:
    """Copy MathJax into the site, where ``custom_mathjax_url`` in mkdocs.yml expects it."""
    source = Path(str(files("jupyter_server_mathjax") / "static"))
    if not (source / "MathJax.js").is_file():
        raise RuntimeError(f"MathJax is missing from {source}: reinstall the docs extra")
    target = Path(config["site_dir"]) / "assets" / "mathjax"
    shutil.copytree(source, target, dirs_exist_ok=True)
    (target / "config" / "site.js").write_text(FONTS, encoding="utf-8")
