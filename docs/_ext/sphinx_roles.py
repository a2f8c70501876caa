"""Griffe extension used by the docs build: render reST idioms of cgan-zoo docstrings as Markdown.

cgan-zoo's docstrings are Google style but use a few reStructuredText idioms that
Markdown does not understand. Before mkdocstrings renders them, this extension rewrites:

* roles such as ``:func:`~cgan_zoo.losses.r1_penalty``` into optional cross-references
  (a link when the target is rendered in the API reference, plain code otherwise, and
  never a build warning);
* simple tables (``====  ====`` borders) into Markdown tables;
* a paragraph ending in ``::`` before an indented literal block into one ending in ``:``;
* the section title ``Example:`` into ``Examples:``, the title Griffe parses as doctest
  examples (it would otherwise render ``Example:`` as an admonition of plain text).

The source files are not changed. mkdocs.yml loads it with
``extensions: [docs/_ext/sphinx_roles.py]``.
"""

from __future__ import annotations

import html
import re
from typing import Any

from griffe import Alias, Extension, Module, Object

_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj):`(~?)([\w.]+)`")
_BORDER = re.compile(r"^(\s*)(=+)((?: +=+)+)\s*$")


def _lookup(obj: Object, name: str) -> str | None:
    """Full path of ``name`` (possibly ``A.b``) as seen from ``obj``, or ``None``."""
    head = name.split(".", 1)[0]
    scopes: list[Object] = []
    if obj.is_class:
        scopes.append(obj)
    if obj.parent is not None:
        scopes.append(obj.parent)
    scopes.append(obj.module)
    package = obj.module.package
    scopes.append(package)
    for scope in scopes:
        try:
            if head in scope.members:
                return f"{scope.path}.{name}"
        except Exception:  # an alias that cannot be resolved
            continue
    return None


def _roles(text: str, obj: Object) -> str:
    def replace(match: re.Match[str]) -> str:
        short, target = match.group(1) == "~", match.group(2)
        if target.startswith("cgan_zoo."):
            identifier = target
        else:
            identifier = _lookup(obj, target) or target
        title = target.rsplit(".", 1)[-1] if short else target
        return (
            f'<autoref optional identifier="{html.escape(identifier)}">'
            f"<code>{html.escape(title)}</code></autoref>"
        )

    return _ROLE.sub(replace, text)


def _split_row(line: str, spans: list[tuple[int, int]]) -> list[str]:
    cells = []
    for i, (start, end) in enumerate(spans):
        stop = spans[i + 1][0] if i + 1 < len(spans) else len(line)
        cells.append(line[start:stop].strip().replace("|", "\\|"))
        del end
    return cells


def _tables(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _BORDER.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent = m.group(1)
        spans = [(s.start(), s.end()) for s in re.finditer(r"=+", lines[i])]
        # header row(s) until the second border, body rows until the third
        j = i + 1
        header: list[str] = []
        while j < len(lines) and not _BORDER.match(lines[j]):
            header.append(lines[j])
            j += 1
        k = j + 1
        body: list[str] = []
        while k < len(lines) and not _BORDER.match(lines[k]):
            if lines[k].strip():
                body.append(lines[k])
            k += 1
        if j >= len(lines) or k >= len(lines) or len(header) != 1:
            out.append(lines[i])  # not a table we understand: leave it alone
            i += 1
            continue
        head_cells = _split_row(header[0], spans)
        out.append("")
        out.append(indent + "| " + " | ".join(head_cells) + " |")
        out.append(indent + "|" + "|".join(" --- " for _ in head_cells) + "|")
        for row in body:
            out.append(indent + "| " + " | ".join(_split_row(row, spans)) + " |")
        out.append("")
        i = k + 1
    return "\n".join(out)


def _literal_blocks(text: str) -> str:
    # "text::" followed by a blank line introduces an indented literal block in reST
    return re.sub(r"(\S)::\n(\s*\n)", r"\1:\n\2", text)


def _example_sections(text: str) -> str:
    return re.sub(r"^(\s*)Example:[ \t]*$", r"\1Examples:", text, flags=re.M)


def rewrite(text: str, obj: Object) -> str:
    """Apply every rewrite to one docstring."""
    return _example_sections(_literal_blocks(_tables(_roles(text, obj))))


class SphinxRoles(Extension):
    """Rewrite reST idioms in every docstring of a loaded package."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        """Walk the package once it is fully loaded."""
        seen: set[int] = set()
        stack: list[Object] = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj.docstring.value, obj)
            for member in obj.members.values():
                if not isinstance(member, Alias):
                    stack.append(member)
