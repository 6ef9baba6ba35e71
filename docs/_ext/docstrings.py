"""A griffe extension that lets the API pages render the package's docstrings as they read.

The docstrings are written for ``help()`` and for doctest: examples are ``>>>`` sessions, cross
references are reStructuredText roles (``:class:`Value```) and subtle behaviour is a ``NOTE:``
paragraph. Markdown would read a ``>>>`` line as three nested quotes and a role as literal text,
so before mkdocstrings renders a docstring this extension rewrites, outside code:

- each ``>>>`` session, up to the next blank line, into a fenced ``pycon`` block;
- each role into inline code (``:meth:`~autograd_mini.engine.Value.zero_grad``` reads
  ``zero_grad``);
- a paragraph that starts with ``NOTE:`` into a note admonition;
- a literal-block marker ``::`` at the end of a paragraph into ``:``;
- the Markdown markup characters ``* _ [ ]`` of prose, which a docstring means as maths;
- a list that follows its paragraph's last line directly: Markdown wants a blank line first.

It also leaves re-exported names off a module's page (see :class:`ReadableDocstrings`).

The docstrings themselves stay as they are; the doctests run from them under pytest.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from griffe import Extension, Module, Object

ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|const|py:\w+):`(~?)([^`]+)`")
LIST_ITEM = re.compile(r"\s*(?:[-*+]|\d+\.)\s")
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
#: Markdown reads these as emphasis or links; a docstring means them as maths (x*y, J[i][j]).
MARKUP = re.compile(r"([*_\[\]])")


def _role(match: re.Match[str]) -> str:
    short, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def _escape(line: str) -> str:
    """``line`` with the Markdown markup characters of its prose escaped, code spans kept."""
    bullet = LIST_ITEM.match(line)
    head, line = (line[: bullet.end()], line[bullet.end():]) if bullet else ("", line)
    out, at = [head], 0
    for span in CODE_SPAN.finditer(line):
        out += [MARKUP.sub(r"\\\1", line[at:span.start()]), span.group()]
        at = span.end()
    out.append(MARKUP.sub(r"\\\1", line[at:]))
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
        session = next((i for i, line in enumerate(block) if line.lstrip().startswith(">>>")),
                       len(block))
        if session:
            out.extend(_prose(block[:session], literal=bool(out) and not out[-1].strip()))
        if session < len(block):
            # at the margin: Markdown reads a fence indented by four spaces as text
            code = textwrap.dedent("\n".join(block[session:])).splitlines()
            out.extend(["```pycon", *code, "```"])
    return "\n".join(out)


def _prose(block: list[str], *, literal: bool) -> list[str]:
    """A paragraph of text: roles, ``::``, lists and ``NOTE:``, as :func:`readable` says."""
    indent = block[0][: len(block[0]) - len(block[0].lstrip())]
    if literal and len(indent) >= 4:  # an indented literal block stays code
        return block
    lines = [_escape(ROLE.sub(_role, line)) for line in block]
    if lines[-1].rstrip().endswith("::"):
        lines[-1] = lines[-1].rstrip()[:-1]
    spaced: list[str] = []
    for line in lines:
        if spaced and LIST_ITEM.match(line) and not LIST_ITEM.match(spaced[-1]) \
                and not spaced[-1].startswith(" "):
            spaced.append("")
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
    """

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        for module in _modules(pkg):
            for name, member in list(module.members.items()):
                if member.is_alias and member.target_path.startswith(f"{pkg.path}."):
                    module.del_member(name)

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = readable(obj.docstring.value)
