"""Which parts of a theorem's statement were checked against its paper's text.

A theory paper that cites a sith verdict needs the theorem sith checks to be the theorem
the paper proved. Every catalogue theorem therefore says, for its number and statement
("theorem"), for each of its assumptions, and for its learner, whether that part was
read in the paper ("verified", with where: theorem, equation, page) or not
("unverified", with what was tried or "from memory"). ``sith theorems --details`` and
the search reports show it. The checks below were made against the texts named in each
entry (2026-12); quotes are verbatim, shortened with "…".
"""

from __future__ import annotations

from dataclasses import dataclass

from theory.errors import InvalidArgument


@dataclass(frozen=True)
class TextCheck:
    """One part of a theorem's statement and whether it was read in the paper.

    ``where``: for a verified part, the theorem/equation/page it was read at (and in
    which copy); for an unverified one, why (e.g. "from memory: the text could not be
    read"). ``quote``: the paper's words, verbatim (shortened with "…"). ``differs``:
    where sith's statement departs from the paper (an idealisation or a correction).
    """

    verified: bool
    where: str
    quote: str = ""
    differs: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.verified, bool) or not isinstance(self.where, str) or not self.where:
            raise InvalidArgument(
                "TextCheck needs verified (a bool) and where (a non-empty string)"
            )

    @property
    def label(self) -> str:
        """'verified: Thm 1, p. 6' or 'unverified: from memory'."""
        return f"{'verified' if self.verified else 'unverified'}: {self.where}"

    def to_dict(self) -> dict[str, object]:
        return {
            "verified": self.verified,
            "where": self.where,
            "quote": self.quote,
            "differs": self.differs,
        }


FROM_MEMORY = TextCheck(False, "from memory: not checked against the paper's text")
NOT_STATED = TextCheck(False, "not stated: the theorem's author gave no text check")

_DAUNHAWER = "Daunhawer et al., ICLR 2023 camera-ready PDF"
_VK = "von Kügelgen et al., NeurIPS 2021 (a full-text copy)"
_KHEMAKHEM = "Khemakhem et al., AISTATS 2020 (updated arXiv text, a full-text copy)"
_REIZINGER = "Reizinger et al., ICLR 2025 camera-ready (a full-text copy)"
_ZIMMERMANN_UNREAD = (
    "from memory: the ICML 2021 text could not be read here (PMLR's PDF is indexed as "
    "binary only; read instead: the NeurIPS 2020 SSL workshop version, "
    "sslneurips21/sslneuips20.github.io, whose statements differ)"
)

CATALOGUE: dict[str, dict[str, TextCheck]] = {
    "multiview": {
        "theorem": TextCheck(
            True,
            f"Theorem 1, p. 6 ({_DAUNHAWER})",
            "Let g1 : X1 → (0, 1)^{n_c} and g2 : X2 → (0, 1)^{n_c} be smooth functions that "
            "minimize LSymAlignMaxEnt as defined in Eq. (5). Then, g1 and g2 block-identify the "
            "true content variables in the sense of Def. 1.",
            "the paper names the mixings f1, f2 and the encoders g1, g2 (sith: the reverse); "
            "Yao et al. 2024, Thm 3.2, was not read",
        ),
        "injective": TextCheck(
            True,
            f"Eq. (6), Sec. 3.1 ({_DAUNHAWER})",
            "f1 : Z1 → X1 and f2 : Z2 → X2 are two smooth and invertible mixing functions with "
            "smooth inverse (i.e., diffeomorphisms)",
            "sith checks injective and immersion for both mixings, close to but weaker than a "
            "diffeomorphism",
        ),
        "immersion": TextCheck(True, f"Eq. (6), Sec. 3.1 ({_DAUNHAWER})", "diffeomorphisms"),
        "smooth-positive-density": TextCheck(
            True,
            f"Theorem 1, p. 6 ({_DAUNHAWER})",
            "assume that p_z is a smooth and continuous density on Z with p_z(z) > 0 almost "
            "everywhere",
        ),
        "content-invariance": TextCheck(
            True,
            f"Assumptions 1 and 2, Sec. 3.2 ({_DAUNHAWER})",
            "p_{z2|z1}(z2|z1) = δ(c̃ − c) p_{s̃|s}(s̃|s) p_{m2}(m2) … for any style variable l … "
            "there exists a set A … with l ∈ A, s.t. (i) p_A(A) > 0 …",
            "sith samples the content equality and each style's random change; Assumption 2's "
            "smoothness and local positivity of the style conditional are not checked",
        ),
        "learner-objective": TextCheck(
            True,
            f"Eq. (5) and Table 2a ({_DAUNHAWER})",
            "LSymAlignMaxEnt(g1, g2) = E[‖g1(x1) − g2(x2)‖_2] − 1/2 (H(g1(x1)) + H(g2(x2))) … "
            "For our experiments, we employ the finite-sample estimators LInfoNCE and LSymInfoNCE",
            "sith trains the symmetric InfoNCE estimator (two encoders) at τ = 1 with "
            "sim(a, b) = −‖a − b‖₂², as the paper's experiments (squared-euclidean-critic)",
        ),
        "squared-euclidean-critic": TextCheck(
            True,
            f"Eq. (5), Sec. 2.2 ({_DAUNHAWER})",
            "we can approximate the symmetrized objective for τ = 1 and sim(a,b) = −(a−b)², "
            "with a large number of negative samples (K → ∞)",
        ),
        "content-sized-encoder": TextCheck(
            True,
            f"Theorem 1 and footnote 6 ({_DAUNHAWER})",
            "we restrict the range of g1 and g2 to (0, 1)^{n_c} by definition merely to simplify "
            "the notation",
            "sith checks the number of outputs; the (0, 1) codomain only simplifies notation "
            "(footnote 6)",
        ),
    },
    "content-style": {
        "theorem": TextCheck(
            True,
            f"Theorem 4.4, Sec. 4.2 ({_VK})",
            "Assume the same data generating process (§ 3) and conditions (i)-(iv) as in Thm. "
            "4.2. Let g : X → (0,1)^{n_c} be any smooth function which minimises … "
            "L_AlignMaxEnt(g) := E[||g(x) − g(x̃)||₂²] − H(g(x)) … Then g block-identifies the "
            "true content variables",
            "Thm 4.2 lists conditions (i)-(iii); the paper's '(i)-(iv)' looks like a typo",
        ),
        "injective": TextCheck(
            True,
            f"Theorem 4.2 (i) ({_VK})",
            "f : Z → X is smooth and invertible with smooth inverse (i.e., a diffeomorphism)",
            "sith checks injective and immersion, close to but weaker than a diffeomorphism",
        ),
        "immersion": TextCheck(True, f"Theorem 4.2 (i) ({_VK})", "a diffeomorphism"),
        "smooth-positive-density": TextCheck(
            True,
            f"Theorem 4.2 (ii) ({_VK})",
            "p_z is a smooth, continuous density on Z with p_z(z) > 0 almost everywhere",
        ),
        "content-invariance": TextCheck(
            True,
            f"Assumptions 3.1 and 3.2, and Theorem 4.2 (iii) ({_VK})",
            "p_{z̃|z}(z̃|z) = δ(c̃ − c) p_{s̃|s}(s̃|s) … for any l ∈ {1,...,n_s}, ∃A ⊆ "
            "{1,...,n_s} s.t. l ∈ A; p_A(A) > 0",
            "the smoothness and local positivity in (iii) are not checked",
        ),
        "learner-objective": TextCheck(
            True,
            f"Eq. (5) and App. D ({_VK})",
            "if we consider τ = 1, and sim(u,v) = −(u−v)², … we can approximately match the form "
            "of (5)",
            "sith's learner (infonce-content) is this estimator: τ = 1 and sim = −‖u − v‖₂² "
            "(squared-euclidean-critic); its outputs are not restricted to (0, 1)^{n_c}",
        ),
        "squared-euclidean-critic": TextCheck(
            True,
            f"App. D ({_VK})",
            "if we consider τ = 1, and sim(u,v) = −(u−v)², … we can approximately match the form "
            "of (5)",
        ),
        "content-sized-encoder": TextCheck(
            True, f"Theorem 4.4 ({_VK})", "Let g : X → (0,1)^{n_c} be any smooth function"
        ),
    },
    "ivae": {
        "theorem": TextCheck(
            True,
            f"Theorems 1, 2 and 4, Sec. 4 ({_KHEMAKHEM})",
            "Theorem 2 (k ≥ 2). Assume the hypotheses of Theorem 1 hold, and that k ≥ 2. … then "
            "the parameters (f, T, λ) are ∼_P-identifiable.",
            "Theorem 2 also needs twice-differentiable statistics and a mixing with all second "
            "order cross derivatives (true of sith's Gaussian statistics and smooth MLPs, not "
            "checked)",
        ),
        "injective": TextCheck(
            True, f"Theorem 1 (ii) ({_KHEMAKHEM})", "The mixing function f in (6) is injective."
        ),
        "sufficient-variability": TextCheck(
            True,
            f"Theorem 1 (iv) ({_KHEMAKHEM})",
            "There exist nk + 1 distinct points u⁰, …, u^{nk} such that the matrix L = "
            "(λ(u₁) − λ(u₀), …, λ(u_{nk}) − λ(u₀)) of size nk × nk is invertible.",
        ),
        "learner-objective": TextCheck(
            True,
            f"Theorem 4 ({_KHEMAKHEM})",
            "(1) The family of distributions q_φ(z|x, u) contains p_{f,T,λ}(z|x, u). (2) We "
            "maximize L(θ, φ) with respect to both θ and φ.",
            "condition (1) is met only approximately: sith's Gaussian posterior of x alone "
            "reaches the true (point-mass) posterior of noiseless data only in the limit of zero "
            "variance, and its decoder variance 0.01 differs from the data's 0; an idealisation, "
            "named in the theorem's summary and not checked",
        ),
    },
    "cross-entropy": {
        "theorem": TextCheck(
            True,
            f"Theorem 2, Sec. 3.3 ({_REIZINGER})",
            "Let Assum. 3 hold, and suppose that a continuous encoder f : R^D → R^d, a linear "
            "classifier W … and β > 0 globally minimize the cross-entropy objective … Then, the "
            "composition h = f ∘ g is a linear map from S^{d−1} to R^d.",
            "the appendix restatement (Thm 2C) says 'Assums. 1C' (a paper inconsistency); the "
            "claim is linear, sith decides the weaker affine",
        ),
        "cluster-centric-vmf": TextCheck(
            True,
            f"Assumption 3 (ii)-(iii), App. A.3 ({_REIZINGER})",
            "(ii) A data sample x belongs to a uniformly chosen class C ∈ Uni(C). (iii) The latent "
            "z ∈ S^{d−1} … is drawn from a vMF distribution around the cluster vector v_C",
        ),
        "affine-generator": TextCheck(
            True,
            f"Assumption 3 (i) and Definition 1 ({_REIZINGER})",
            "a set of unit-norm d-dimensional cluster-vectors … such that they form an affine "
            "generator system of R^d",
        ),
        "injective": TextCheck(
            True,
            f"Assumption 3 (iv) ({_REIZINGER})",
            "passing the latent z through a continuous and injective generator function g",
        ),
        "learner-objective": TextCheck(
            True, f"Theorem 2 ({_REIZINGER})", "a linear classifier W with rows {w_cᵀ} and β > 0"
        ),
    },
    "cl-ica": {
        "theorem": TextCheck(
            False,
            _ZIMMERMANN_UNREAD,
            differs=(
                "the workshop version's Theorem 2 claims only an affine map, and its Proposition 1 "
                "ties the encoder's radius to τ and κ (a learnable rescaling), so τ = 1/κ may be the "
                "unit-radius case only"
            ),
        ),
        "matched-temperature": TextCheck(
            False,
            _ZIMMERMANN_UNREAD,
            differs=(
                "the workshop version (footnote 2, Proposition 1) maps onto a sphere of radius r, "
                "'implemented as a learnable rescaling operation of the network f'; its proof "
                "step (Eq. 28) holds for r² = τκ, so unit outputs need τ = 1/κ and a learnable "
                "radius meets it at any τ (sith's radius='learnable')"
            ),
        ),
    },
    "cl-ica-box": {
        "theorem": TextCheck(
            False,
            _ZIMMERMANN_UNREAD,
            differs=(
                "secondary notes on the arXiv version say its Theorem 5 is the affine convex-body "
                "result and Theorem 6 the permutation and sign-flip one for L^p, p ≥ 1, p ≠ 2: the "
                "theorem number and the permutation claim are unverified"
            ),
        ),
    },
    "anisotropic-infonce": {
        "theorem": TextCheck(
            False,
            (
                "from memory: the paper's text could not be read (only the project page and the "
                "authors' code)"
            ),
            differs="the project page claims recovery 'up to orthogonal transformations'",
        ),
        "distinct-concentrations": TextCheck(
            False,
            (
                "from memory: the paper's text could not be read; sith states it because its claim "
                "(a permutation) needs it, and the authors' README experiments use distinct Λ "
                "(5 and 25, or linearly spaced)"
            ),
        ),
    },
    "tcl": {
        "theorem": TextCheck(False, "from memory: no copy of the paper could be read here"),
        "enough-features": TextCheck(
            False,
            "from memory: the paper's text could not be read; the statement (as recalled) "
            "asks for exactly n features, and sith checks equality",
        ),
    },
    "linear-ica": {
        "theorem": TextCheck(False, "from memory: no copy of Comon 1994 could be read here"),
    },
}


def checks_for(name: str) -> dict[str, TextCheck]:
    """The catalogue's text checks of theorem ``name`` (empty for others)."""
    return dict(CATALOGUE.get(name, {}))


__all__ = ["CATALOGUE", "FROM_MEMORY", "NOT_STATED", "TextCheck", "checks_for"]
