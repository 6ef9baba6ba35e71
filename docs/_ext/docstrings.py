"""A griffe extension that lets the API pages render the package's docstrings as they read.

The docstrings are written for ``help()`` and for doctest: examples are ``>>>`` sessions, cross
references are reStructuredText roles (``:class:`Value```) and subtle behaviour is a ``NOTE:``
paragraph. Markdown would read a ``>>>`` line as three nested quotes and a role as literal text,
so before mkdocstrings renders a docstring this extension rewrites, outside code:

- each ``>>>`` session, up to the next blank line, into a fenced ``pycon`` block;
- ``Args:``, ``Raises:`` and ``Returns:`` sections into a bold title and a list of entries;
- each reST link ```text <url>`_`` into a Markdown link;
- each role into inline code (``:meth:`~autograd_mini.engine.Value.zero_grad``` reads
  ``zero_grad``);
- a paragraph that starts with ``NOTE:`` into a note admonition;
- a literal-block marker ``::`` at the end of a paragraph into ``:``;
- the Markdown markup characters ``* _ [ ]`` of prose, which a docstring means as maths;
- a list that follows its paragraph's last line directly: Markdown wants a blank line first.

It also gives an attribute the ``#:`` comment above it as its docstring, and leaves
re-exported names off a module's page (see :class:`ReadableDocstrings`).

The docstrings themselves stay as they are; the doctests run from them under pytest.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from griffe import Docstring, Extension, Module, Object

ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|const|py:\w+):`(~?)([^`]+)`")
RST_LINK = re.compile(r"`([^`<]+?)\s*<(https?://[^>]+)>`_")
LIST_ITEM = re.compile(r"\s*(?:[-*+]|\d+\.)\s")
#: What keeps its Markdown: a role made a link, code spans (also across a line break), links,
#: bold, an italic word or phrase, and a bullet at the start of a line.
KEPT = re.compile(r"\[`[^`\n]+`\]\[[\w.]+\]|(`+).+?\1|\[[^\]\n]+\]\([^)\s]+\)"
                  r"|(?<![\w*])\*\*[^*\s][^*]*?\*\*(?![\w*])"
                  r"|(?<![\w*])\*[A-Za-z][^*\n]*?[A-Za-z]\*(?![\w*])|^[ \t]*[-*+][ \t]",
                  re.DOTALL | re.MULTILINE)
#: Markdown reads these as emphasis or links; a docstring means them as maths (x*y, J[i][j]).
MARKUP = re.compile(r"([*_\[\]])")
SECTION = re.compile(r"(Args|Arguments|Parameters|Raises|Returns|Yields):")
ENTRY = re.compile(r"([\w*]+(?:, [\w*]+)*): (.*)")


#: While the package's docstrings are rewritten: the documented object that a role's target
#: names, as the path of its entry on the site, or None (then the role stays plain code).
_resolve: Callable[[str], str | None] = lambda target: None  # noqa: E731


def _role(match: re.Match[str]) -> str:
    short, target = match.groups()
    shown = f"`{target.rsplit('.', 1)[-1] if short else target}`"
    entry = _resolve(target)
    return f"[{shown}][{entry}]" if entry else shown


def _escape(text: str) -> str:
    """``text`` with roles as code, reST links as links, and the Markdown markup characters of
    its prose escaped; what :data:`KEPT` matches is kept as it is."""
    text = RST_LINK.sub(r"[\1](\2)", ROLE.sub(_role, text))
    out, at = [], 0
    for kept in KEPT.finditer(text):
        out += [MARKUP.sub(r"\\\1", text[at:kept.start()]), kept.group()]
        at = kept.end()
    out.append(MARKUP.sub(r"\\\1", text[at:]))
    return "".join(out)


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """The text cut at blank lines; each blank line is a paragraph of its own."""
    out: list[list[str]] = []
    for line in lines:
        if not line.strip():
            out.append([line])
        elif out and out[-1][0].strip():
            out[-1].append(line)
        else:
            out.append([line])
    return out


def readable(text: str) -> str:
    """The docstring ``text`` as Markdown that renders as the docstring reads.

    tests/test_site.py checks each rewrite on small docstrings.
    """
    out: list[str] = []
    fenced = False
    for block in _paragraphs(text.splitlines()):
        fences = sum(line.lstrip().startswith("```") for line in block)
        if fenced or fences or not block[0].strip():
            fenced ^= fences % 2 == 1
            out.extend(block)
            continue
        if SECTION.fullmatch(block[0]) and len(block) > 1 and block[1].startswith(" "):
            out.extend(_section(block))
            continue
        while block:
            session = next((i for i, line in enumerate(block)
                            if line.lstrip().startswith(">>>")), len(block))
            if session:
                out.extend(_prose(block[:session], literal=bool(out) and not out[-1].strip()))
            if session == len(block):
                break
            # the session ends where a list item less indented than it starts
            margin = len(block[session]) - len(block[session].lstrip())
            end = next((i for i in range(session + 1, len(block)) if LIST_ITEM.match(block[i])
                        and len(block[i]) - len(block[i].lstrip()) < margin), len(block))
            # at the margin: Markdown reads a fence indented by four spaces as text
            code = textwrap.dedent("\n".join(block[session:end])).splitlines()
            out.extend(["```pycon", *code, "```"])
            block = block[end:]
    return "\n".join(out)


def _section(block: list[str]) -> list[str]:
    """An ``Args:`` (or ``Raises:``, ``Returns:``) section as a bold title and one bullet per
    entry: ``name: text``, continued on lines indented further."""
    entries: list[list[str]] = []
    margin = len(block[1]) - len(block[1].lstrip())
    for line in block[1:]:
        indent = len(line) - len(line.lstrip())
        if indent <= margin or not entries:
            entries.append([line.strip()])
        else:
            entries[-1].append(line.strip())
    out = [f"**{block[0].rstrip(':')}:**", ""]
    for entry in entries:
        text = " ".join(entry)
        named = ENTRY.fullmatch(text)
        if named:
            names = ", ".join(f"`{name}`" for name in named.group(1).split(", "))
            out.append(f"- {names}: {_escape(named.group(2))}")
        else:
            out.append(f"- {_escape(text)}")
    return out


def _prose(block: list[str], *, literal: bool) -> list[str]:
    """A paragraph of text: roles, ``::``, lists and ``NOTE:``, as :func:`readable` says."""
    indent = block[0][: len(block[0]) - len(block[0].lstrip())]
    if literal and len(indent) >= 4:  # an indented literal block stays code
        return block
    lines = _escape("\n".join(block)).split("\n")
    if lines[-1].rstrip().endswith("::"):
        lines[-1] = lines[-1].rstrip()[:-1]
    spaced: list[str] = []
    listing = bool(LIST_ITEM.match(lines[0]))
    for line in lines:
        if spaced and LIST_ITEM.match(line) and not listing:
            if spaced[-1].rstrip().endswith(":"):  # a list that its sentence announces
                spaced.append("")
                listing = True
            else:  # a wrapped line that happens to start with "+ " or "- "
                line = re.sub(r"^(\s*)([-+*])(\s)", r"\1\\\2\3", line)
                line = re.sub(r"^(\s*\d+)\.(\s)", r"\1\\.\2", line)
        elif listing and not LIST_ITEM.match(line) and not line.startswith(" "):
            listing = False
        spaced.append(line)
    if spaced[0].startswith("NOTE:"):
        body = spaced[0][len("NOTE:"):].lstrip()
        body = body[:1].upper() + body[1:]
        spaced = ["!!! note", f"    {body}", *(f"    {line}" for line in spaced[1:])]
    return spaced


def _modules(module: Module) -> list[Module]:
    return [module, *(m for sub in module.modules.values() for m in _modules(sub))]


class ReadableDocstrings(Extension):
    """Rewrites every docstring of the loaded package with :func:`readable`, and documents
    each object once, in the module that defines it: a name that a module imports from
    another module of the package (``autograd_mini.testing`` gathers ``to_sympy`` from
    ``testing.oracle``) is left off the importing module's page.

    The rewriting waits until the whole package is loaded, so that a role can become a link
    to the entry it names (``:func:`no_grad``` in ``engine`` links to
    ``autograd_mini.engine.no_grad``) wherever that entry is on the site.
    """

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is None and obj.is_attribute:
            comment = _doc_comment(obj)
            if comment:
                obj.docstring = Docstring(comment, parent=obj)

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        global _resolve
        done: set[int] = set()  # NOTE: griffe may share one Docstring between two objects
        for obj in _objects(pkg):
            if obj.docstring is None or id(obj.docstring) in done:
                continue
            done.add(id(obj.docstring))
            _resolve = functools.partial(_entry, pkg, obj)
            try:
                obj.docstring.value = readable(obj.docstring.value)
            finally:
                _resolve = lambda target: None  # noqa: E731
        for module in _modules(pkg):
            for name, member in list(module.members.items()):
                if member.is_alias and member.target_path.startswith(f"{pkg.path}."):
                    module.del_member(name)


#: The modules without a page of their own; nothing in them can be linked to.
UNDOCUMENTED = ("autograd_mini._graph", "autograd_mini.sweep", "autograd_mini.files",
                "autograd_mini.__main__")


def _objects(obj: Object) -> Iterator[Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


def _find(pkg: Module, path: str) -> Object | None:
    """The object at the dotted ``path`` inside ``pkg``, through aliases, or None."""
    parts = path.split(".")
    if parts[0] != pkg.name:
        return None
    obj: Any = pkg
    for part in parts[1:]:
        member = obj.members.get(part)
        if member is None:
            return None
        try:
            obj = member.final_target if member.is_alias else member
        except Exception:  # an alias to outside the package, or one that does not resolve
            return None
    return obj  # type: ignore[no-any-return]


def _entry(pkg: Module, where: Object, target: str) -> str | None:
    """The site entry of the object that ``target`` names in a docstring of ``where``: an
    absolute path, or a name seen from ``where``'s scopes outwards, as Sphinx reads roles."""
    target = target.lstrip("~").removesuffix("()")
    scopes: list[Object] = []
    scope: Any = where
    while scope is not None:
        scopes.append(scope)
        scope = scope.parent
    for path in (target, *(f"{s.path}.{target}" for s in scopes)):
        obj = _find(pkg, path)
        if obj is None or obj.is_module or obj.docstring is None:
            continue
        if any(part.startswith("_") for part in obj.path.split(".")[1:]) or \
                obj.module.path in UNDOCUMENTED:
            return None  # found, but it has no entry on the site
        return obj.path
    return None


@functools.cache
def _source(path: str) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()


def _doc_comment(obj: Object) -> str:
    """The ``#:`` comment lines right above an attribute: how the package documents its
    constants, as Sphinx's autodoc reads them."""
    if obj.lineno is None or not isinstance(obj.filepath, Path):
        return ""
    lines = _source(str(obj.filepath))
    above: list[str] = []
    at = obj.lineno - 2
    while at >= 0 and lines[at].lstrip().startswith("#:"):
        above.insert(0, lines[at].lstrip()[2:].removeprefix(" "))
        at -= 1
    return "\n".join(above)
