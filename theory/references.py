"""The papers behind the catalogue's theorems, as structured references.

Each catalogue theorem's ``cite`` string names its paper for people; :data:`REFERENCES`
holds the same papers as data (authors, title, venue, year, arXiv id or DOI), so
``sith cite THEOREM`` can print BibTeX and reports can list what they tested. A field
that was not checked against the publication itself is listed in ``unverified`` (and
printed as such), never silently guessed. A user's :class:`theory.Theorem` carries its
own through ``Theorem(reference=...)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from theory.errors import InvalidArgument

KINDS = ("article", "inproceedings", "misc")
FIELDS = ("volume", "number", "pages", "arxiv", "doi", "url")
_ARXIV = re.compile(r"^\d{4}\.\d{4,5}$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


@dataclass(frozen=True)
class Reference:
    """One paper. ``authors`` are written "Family, Given" (BibTeX's order, particles
    such as "von" kept in the family name); ``kind`` is the BibTeX entry type: an
    ``article`` appears in a journal (``venue``), an ``inproceedings`` at a conference
    (``venue``: its name), a ``misc`` elsewhere (a preprint)."""

    authors: tuple[str, ...]
    title: str
    venue: str
    year: int
    kind: str = "inproceedings"
    arxiv: str | None = None
    doi: str | None = None
    volume: str | None = None
    number: str | None = None
    pages: str | None = None
    url: str | None = None
    #: fields not checked against the publication (printed with a warning comment)
    unverified: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "authors", tuple(self.authors))
        object.__setattr__(self, "unverified", tuple(self.unverified))
        if not self.authors or not all(isinstance(a, str) and a.strip() for a in self.authors):
            raise InvalidArgument("a reference needs at least one author, each a non-empty string")
        if not isinstance(self.title, str) or not self.title.strip():
            raise InvalidArgument("a reference needs a title")
        if not isinstance(self.venue, str):
            raise InvalidArgument("a reference's venue must be a string")
        if (
            isinstance(self.year, bool)
            or not isinstance(self.year, int)
            or not 1000 <= self.year <= 9999
        ):
            raise InvalidArgument(
                f"a reference's year must be a four-digit integer, got {self.year!r}"
            )
        if self.kind not in KINDS:
            raise InvalidArgument(
                f"a reference's kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        if self.arxiv is not None and not _ARXIV.match(str(self.arxiv)):
            raise InvalidArgument(
                f"arxiv must be an arXiv id such as 2102.08850, got {self.arxiv!r}"
            )
        if self.doi is not None and not _DOI.match(str(self.doi)):
            raise InvalidArgument(f"doi must look like 10.NNNN/..., got {self.doi!r}")
        known = {"authors", "title", "venue", "year", *FIELDS}
        unknown = [f for f in self.unverified if f not in known]
        if unknown:
            raise InvalidArgument(f"unverified names unknown fields: {', '.join(unknown)}")

    @property
    def first_author_family(self) -> str:
        return self.authors[0].split(",")[0].strip()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "authors": list(self.authors),
            "title": self.title,
            "venue": self.venue,
            "year": self.year,
            "kind": self.kind,
        }
        out.update({f: getattr(self, f) for f in FIELDS if getattr(self, f) is not None})
        if self.unverified:
            out["unverified"] = list(self.unverified)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        if not isinstance(data, dict):
            raise InvalidArgument("a reference must be a JSON object")
        allowed = {"authors", "title", "venue", "year", "kind", "unverified", *FIELDS}
        extra = sorted(set(data) - allowed)
        if extra:
            raise InvalidArgument(f"unknown reference fields: {', '.join(extra)}")
        return cls(**data)


def _ref(*authors: str, **kw: Any) -> Reference:
    return Reference(authors=authors, **kw)


_ZIMMERMANN_2021 = _ref(
    "Zimmermann, Roland S.",
    "Sharma, Yash",
    "Schneider, Steffen",
    "Bethge, Matthias",
    "Brendel, Wieland",
    title="Contrastive Learning Inverts the Data Generating Process",
    venue="Proceedings of the 38th International Conference on Machine Learning (ICML)",
    year=2021,
    arxiv="2102.08850",
)

#: theorem name -> the papers it comes from (several when the theorem combines results)
REFERENCES: dict[str, tuple[Reference, ...]] = {
    "linear-ica": (
        _ref(
            "Comon, Pierre",
            title="Independent Component Analysis, a New Concept?",
            venue="Signal Processing",
            year=1994,
            kind="article",
            volume="36",
            number="3",
            pages="287--314",
            doi="10.1016/0165-1684(94)90029-9",
            unverified=("volume", "number", "pages", "doi"),
        ),
    ),
    "cl-ica": (_ZIMMERMANN_2021,),
    "cl-ica-box": (_ZIMMERMANN_2021,),
    "content-style": (
        _ref(
            "von Kügelgen, Julius",
            "Sharma, Yash",
            "Gresele, Luigi",
            "Brendel, Wieland",
            "Schölkopf, Bernhard",
            "Besserve, Michel",
            "Locatello, Francesco",
            title="Self-Supervised Learning with Data Augmentations Provably Isolates "
            "Content from Style",
            venue="Advances in Neural Information Processing Systems (NeurIPS)",
            year=2021,
            arxiv="2106.04619",
        ),
    ),
    "tcl": (
        _ref(
            "Hyvärinen, Aapo",
            "Morioka, Hiroshi",
            title="Unsupervised Feature Extraction by Time-Contrastive Learning and Nonlinear ICA",
            venue="Advances in Neural Information Processing Systems (NeurIPS)",
            year=2016,
            arxiv="1605.06336",
        ),
    ),
    "multiview": (
        _ref(
            "Daunhawer, Imant",
            "Bizeul, Alice",
            "Palumbo, Emanuele",
            "Marx, Alexander",
            "Vogt, Julia E.",
            title="Identifiability Results for Multimodal Contrastive Learning",
            venue="International Conference on Learning Representations (ICLR)",
            year=2023,
            arxiv="2303.09166",
        ),
        _ref(
            "Yao, Dingling",
            "Xu, Danru",
            "Lachapelle, Sébastien",
            "Magliacane, Sara",
            "Taslakian, Perouz",
            "Martius, Georg",
            "von Kügelgen, Julius",
            "Locatello, Francesco",
            title="Multi-View Causal Representation Learning with Partial Observability",
            venue="International Conference on Learning Representations (ICLR)",
            year=2024,
            arxiv="2311.04056",
        ),
    ),
    "cross-entropy": (
        _ref(
            "Reizinger, Patrik",
            "Bizeul, Alice",
            "Juhos, Attila",
            "Vogt, Julia E.",
            "Balestriero, Randall",
            "Brendel, Wieland",
            "Klindt, David",
            title="Cross-Entropy Is All You Need To Invert the Data Generating Process",
            venue="International Conference on Learning Representations (ICLR)",
            year=2025,
            arxiv="2410.21869",
        ),
    ),
    "anisotropic-infonce": (
        _ref(
            "Rusak, Evgenia",
            "Reizinger, Patrik",
            "Juhos, Attila",
            "Bringmann, Oliver",
            "Zimmermann, Roland S.",
            "Brendel, Wieland",
            title="InfoNCE: Identifying the Gap Between Theory and Practice",
            venue="International Conference on Artificial Intelligence and Statistics (AISTATS)",
            year=2025,
            arxiv="2407.00143",
        ),
    ),
    "ivae": (
        _ref(
            "Khemakhem, Ilyes",
            "Kingma, Diederik P.",
            "Monti, Ricardo Pio",
            "Hyvärinen, Aapo",
            title="Variational Autoencoders and Nonlinear ICA: A Unifying Framework",
            venue="International Conference on Artificial Intelligence and Statistics (AISTATS)",
            year=2020,
            arxiv="1907.04809",
        ),
    ),
}


def as_references(value: Any, where: str = "reference") -> tuple[Reference, ...]:
    """``value`` (a Reference, a dict, or a sequence of them; None) as a tuple."""
    if value is None:
        return ()
    if isinstance(value, (Reference, dict)):
        value = (value,)
    if not isinstance(value, (tuple, list)):
        raise InvalidArgument(f"{where} must be a theory.references.Reference or a tuple of them")
    out = []
    for item in value:
        if isinstance(item, dict):
            item = Reference.from_dict(item)
        if not isinstance(item, Reference):
            raise InvalidArgument(
                f"{where} must be a theory.references.Reference or a tuple of them"
            )
        out.append(item)
    return tuple(out)


def lookup(theorem_name: str) -> tuple[Reference, ...]:
    """The catalogue's references for ``theorem_name`` (empty when it has none)."""
    return REFERENCES.get(theorem_name, ())


__all__ = ["KINDS", "REFERENCES", "Reference", "as_references", "lookup"]
