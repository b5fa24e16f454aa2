"""Platonic convergence: do independently trained models agree, and does identifiability
predict when they do? (``sith align``, :func:`verification.align`.)

Bottom to top (each module imports only those above it):

- ``pairwise``  the scores of two representations of one held-out set (CKA, mutual k-NN,
                linear R² both ways, Procrustes, agreement up to the indeterminacy)
- ``work``      the picklable :class:`AlignItem` and the worker that trains one model
                (through the search's Evaluator and store) and encodes the common set
- ``result``    :class:`AlignResult` (the ``sith.align/1`` document) and its summary
- ``reports``   Markdown, HTML and figures rendered from the document
- ``driver``    :func:`align`: validate, skip finished models, train the rest on an
                executor, compare every pair, write OUT

The package name is private so that no submodule can shadow the public function
``verification.align``.
"""

from verification._align.driver import AlignDirectory, EmbeddingStore, align
from verification._align.pairwise import compare, indeterminacy_score
from verification._align.reports import load_align
from verification._align.result import SCHEMA, SCHEMA_FILE, AlignResult

__all__ = [
    "SCHEMA",
    "SCHEMA_FILE",
    "AlignDirectory",
    "AlignResult",
    "EmbeddingStore",
    "align",
    "compare",
    "indeterminacy_score",
    "load_align",
]
