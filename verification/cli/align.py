"""``sith align``: do independently trained models agree, and does identifiability
predict when?"""

from __future__ import annotations

from pathlib import Path

import click

from verification.cli import _options as opt
from verification.cli import _runs
from verification.cli._common import fail, m


@click.command("align")
@click.argument("name", required=False)
@click.option(
    "--theorem",
    "theorem_name",
    metavar="NAME",
    help="The theorem (instead of the NAME argument): its claim says what recovering the "
    "latents and agreeing up to its indeterminacy mean.",
)
@click.option(
    "--learners",
    metavar="A,B,...",
    help="Registered learners to train (sith learners); default: the theorem's own.",
)
@opt.vary(
    "A process field or learner option and its values (as sith sweep); repeat for a "
    "grid. Models of different processes are not compared with each other."
)
@opt.seeds("Independently trained models per learner and setting: SEED, SEED+1, ...")
@opt.seed
@opt.process("The Process (default: the theorem's canonical process).")
@opt.shown(
    "--n-eval",
    2000,
    click.IntRange(20, 10**6),
    "Rows of the common held-out set every model encodes.",
)
@opt.shown(
    ("-k", "--k", "k"),
    10,
    click.IntRange(1),
    "Neighbours of the mutual k-NN score (on unit-normalised rows, Huh et al. 2024).",
)
@opt.executor("models train")
@opt.run_settings(
    "Directory for align.json, report.md/.html, figures/, the store and the embeddings "
    "(default: runs/align-NAME-HASH; rerunning resumes it).",
    "Use the result store of this directory (shared with sweeps and other alignments).",
    "one model (checks + training)",
)
@opt.outputs
@opt.json_option("Print align.json.")
@opt.quiet
def align_command(
    name,
    theorem_name,
    learners,
    vary_items,
    seeds,
    seed,
    process_spec,
    n_eval,
    k,
    run_on,
    run,
    outputs,
    as_json,
    quiet,
):
    """Do independently trained models agree with each other, and does identifiability
    predict when? Trains each (learner, setting, seed) once, encodes one common held-out
    set, and compares every pair of models (linear CKA, mutual k-NN, linear R² both ways,
    Procrustes, agreement up to the theorem's indeterminacy) and each model with the truth.

    Writes OUT/align.json, report.md, report.html and figures/ (pairwise heatmaps,
    agreement against recovery of the truth). Every model goes through the result store:
    rerunning trains nothing that finished.

    \b
    Examples:
      sith align cl-ica --learners infonce,vicreg,barlow-twins --seeds 3 --out runs/align
      sith align --process paper.py:process --theorem cl-ica --vary encoder.width=64,256
    """
    from verification._align import align
    from verification._align.reports import model_rows
    from verification.cli._progress import AlignProgress

    if name and theorem_name and name != theorem_name:
        fail(f"two theorems given: {name!r} and --theorem {theorem_name!r}")
    name = name or theorem_name
    if not name:
        fail("name a theorem: sith align NAME (or --theorem NAME)")
    learner_list = None
    if learners is not None:
        learner_list = [part.strip() for part in learners.split(",")]
        if not all(learner_list):
            fail(f"--learners expects A,B,... (registered learner names), got {learners!r}")
    vary = _runs.parse_vary(vary_items, None) if vary_items else None
    theorem, process, imports = _runs.subject(name, process_spec)
    out = run.out
    if out is None:  # one directory per alignment, however its --vary is spelled
        from verification._sweep.settings import normalised_settings

        first = learner_list[0] if learner_list else None
        config = {
            "learners": learner_list,
            "vary": vary and normalised_settings(theorem, vary, process=process, learner=first),
            "seeds": seeds,
            "seed": seed,
            "n_eval": n_eval,
            "oracle": run.oracle,
        }
        out = _runs.default_out("align", name, process, config)

    def start(progress):
        return align(
            theorem,
            learner_list,
            vary=vary,
            n_eval=n_eval,
            k=k,
            on_model=progress.update if progress else None,
            **_runs.arguments(run, run_on, outputs, process, seeds, seed, out, imports),
        )

    def summarise(result, doc: dict) -> None:
        header, rows = model_rows(doc)
        _runs.print_summary(
            f"[bold]{m(result.theorem)}[/]: {len(result.models)} models "
            f"({result.new_models} new), {len(result.pairs)} pairs in {result.seconds:.0f} s, "
            f"status {result.status}",
            "models",
            header,
            rows,
            result.summary.get("statement", ""),
            f"align: {out}/align.json, {out}/report.md, {out}/report.html",
        )

    def failure(result) -> str | None:
        if result.models and all(model.get("error") for model in result.models):
            return f"every model failed; the first with {result.models[0]['error']}"
        return None

    _runs.execute(
        "align",
        start,
        progress=None if quiet or as_json else AlignProgress(),
        out=out,
        as_json=as_json,
        quiet=quiet,
        outputs=outputs,
        summarise=summarise,
        records=lambda r: _runs.store_records(Path(run.store or out), r.models, r.theorem),
        params=lambda r, doc: {"learners": ",".join(r.learners), "seeds": len(r.seeds)},
        failure=failure,
    )
