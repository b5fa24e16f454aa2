"""BibTeX for sith itself and for the papers of the theorems a result tested.

``sith cite THEOREM...`` prints :func:`bibtex` of each theorem's references
(``theory/references.py``, or a user's ``Theorem(reference=...)``); ``sith cite`` alone
prints sith's own entry (the same data as ``CITATION.cff`` at the repository's root).
Reports end with :func:`markdown_section`: both entries, and the result's provenance.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import theory as th
from theory.errors import InvalidArgument, UnknownName
from theory.references import Reference, lookup
from verification._latex import ascii_accents
from verification.provenance import sith_version

#: sith's own entry; ``CITATION.cff`` says the same (tests/test_citations.py checks it)
SITH_TITLE = "sith: differentiable theory-checking for identifiability in self-supervised learning"
SITH_AUTHOR = "The sith developers"
SITH_LICENSE = "MIT"
SITH_KEY = "sith"

_STOP = {"a", "an", "the", "on", "of", "for", "and", "to", "is", "in", "with"}


def key(ref: Reference) -> str:
    """A BibTeX key: first author's family name, year, first word of the title that is
    not a stop word, lower-case ASCII (``zimmermann2021contrastive``)."""

    def ascii_word(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]", "", plain.lower())

    words = [ascii_word(w) for w in re.split(r"[\s:,-]+", ref.title)]
    first = next((w for w in words if w and w not in _STOP), "")
    return f"{ascii_word(ref.first_author_family)}{ref.year}{first}"


def _value(text: str) -> str:
    """A BibTeX field value: braces balanced, accents as commands, no control chars."""
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = ascii_accents(text)
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:  # an unbalanced brace would swallow the rest of the .bib file
        text = text.replace("{", "").replace("}", "")
    return text


def bibtex(ref: Reference, cite_key: str | None = None) -> str:
    """One BibTeX entry for ``ref``; fields not checked against the publication are
    named in a comment line above it."""
    fields: list[tuple[str, str]] = [
        ("author", " and ".join(_author(a) for a in ref.authors)),
        ("title", "{" + _value(ref.title) + "}"),  # extra braces keep its capitals
    ]
    venue = {"article": "journal", "inproceedings": "booktitle", "misc": "howpublished"}
    if ref.venue:
        fields.append((venue[ref.kind], _value(ref.venue)))
    fields.append(("year", str(ref.year)))
    for name in ("volume", "number", "pages", "doi"):
        if getattr(ref, name):
            fields.append((name, _value(getattr(ref, name))))
    if ref.arxiv:
        fields += [("eprint", ref.arxiv), ("archiveprefix", "arXiv")]
    url = ref.url or (f"https://arxiv.org/abs/{ref.arxiv}" if ref.arxiv else None)
    if url:
        fields.append(("url", _value(url)))
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in fields)
    head = ""
    if ref.unverified:
        head = f"% unverified: {', '.join(ref.unverified)} (check against the publication)\n"
    return f"{head}@{ref.kind}{{{cite_key or key(ref)},\n{body}\n}}\n"


def _author(name: str) -> str:
    text = _value(name)
    family = text.split(",")[0]
    if " " in family.strip() and not family.strip()[0].islower():
        # a corporate or multi-word family name stays one unit
        return "{" + family.strip() + "}" + text[len(family) :]
    return text


def sith_bibtex() -> str:
    """sith's own entry (a ``@misc``: software, its version as a note)."""
    fields = [
        ("author", "{" + SITH_AUTHOR + "}"),
        ("title", "{" + SITH_TITLE + "}"),
        ("note", f"Version {sith_version()}, {SITH_LICENSE} license"),
    ]
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in fields)
    return f"@misc{{{SITH_KEY},\n{body}\n}}\n"


def theorem_references(theorem: th.Theorem | str) -> tuple[Reference, ...]:
    """The references of a theorem (object or catalogue name; a name sith does not know
    here falls back to the catalogue's table of references, else to none)."""
    if isinstance(theorem, th.Theorem):
        return theorem.references
    try:
        return th.theorems.get(theorem).references
    except UnknownName:
        return lookup(theorem)


def cite(theorems: Sequence[th.Theorem]) -> str:
    """The BibTeX of every theorem's papers, each paper once, in the order given.
    A theorem without a structured reference is refused, naming its ``cite`` text."""
    seen: dict[str, str] = {}
    for theorem in theorems:
        refs = theorem.references
        if not refs:
            hint = f" (its source: {theorem.cite})" if theorem.cite else ""
            raise InvalidArgument(
                f"theorem {theorem.name!r} has no structured reference{hint}; give it one "
                "with Theorem(reference=theory.references.Reference(...))"
            )
        for ref in refs:
            seen.setdefault(key(ref), bibtex(ref))
    return "\n".join(seen.values())


def markdown_section(theorem: str, made_by: dict[str, Any] | None = None) -> str:
    """The "Cite" section that ends a Markdown report: sith's entry and the theorem's
    papers as BibTeX, and (when given) one line of the result's provenance."""
    refs = theorem_references(theorem)
    entries = [sith_bibtex(), *dict.fromkeys(bibtex(r) for r in refs)]
    lines = ["## Cite", ""]
    if refs:
        lines.append(f"This result used sith and tested {theorem} ({_short(refs)}):")
    else:
        lines.append(f"This result used sith; {theorem} has no structured reference here.")
    lines += ["", "```bibtex", *"\n".join(entries).rstrip("\n").split("\n"), "```", ""]
    if made_by:
        lines += [provenance_line(made_by), ""]
    return "\n".join(lines)


def html_section(theorem: str, made_by: dict[str, Any] | None = None) -> str:
    """The "Cite" section that ends an HTML report (every value escaped)."""
    refs = theorem_references(theorem)
    entries = [sith_bibtex(), *dict.fromkeys(bibtex(r) for r in refs)]
    text = (
        f"This result used sith and tested {theorem} ({_short(refs)}):"
        if refs
        else f"This result used sith; {theorem} has no structured reference here."
    )
    out = f"<h2>Cite</h2><p>{html.escape(text)}</p><pre>{html.escape(chr(10).join(entries))}</pre>"
    if made_by:
        out += f"<p>{html.escape(provenance_line(made_by))}</p>"
    return out


def provenance_line(made_by: dict[str, Any]) -> str:
    """One sentence of a provenance object, for the end of a report."""
    git = made_by.get("git")
    where = (
        f"git {git['commit'][:12]}{' (uncommitted changes)' if git.get('dirty') else ''}"
        if isinstance(git, dict) and git.get("commit")
        else "not in a git repository"
    )
    command = " ".join(str(a) for a in made_by.get("command") or []).replace("`", "'")
    return (
        f"Made with sith {made_by.get('sith')} (Python {made_by.get('python')}, torch "
        f"{made_by.get('torch')}, numpy {made_by.get('numpy')}) on {made_by.get('platform')}, "
        f"device {made_by.get('device')}, at {made_by.get('created')}, {where}; command: "
        f"`{command}`."
    )


def _short(refs: Iterable[Reference]) -> str:
    out = []
    for r in refs:
        more = " et al." if len(r.authors) > 2 else ""
        if len(r.authors) == 2:
            more = f" & {r.authors[1].split(',')[0].strip()}"
        out.append(f"{r.first_author_family}{more} {r.year}")
    return "; ".join(out)


__all__ = [
    "SITH_AUTHOR",
    "SITH_TITLE",
    "bibtex",
    "cite",
    "html_section",
    "key",
    "markdown_section",
    "provenance_line",
    "sith_bibtex",
    "theorem_references",
]
