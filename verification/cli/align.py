"""``sith align``: do independently trained models agree, and does identifiability
predict when?"""

from __future__ import annotations

from pathlib import Path

import click

from verification.cli import _options as opt
from verification.cli._common import fail, m
from verification.cli._common import figure_formats as parse_figures
from verification.cli._runs import (
    default_out,
    execute,
    parse_vary,
    print_summary,
    store_records,
    subject,
)


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
@click.option(
    "--n-eval",
    default=2000,
    show_default=True,
    type=click.IntRange(20, 10**6),
    help="Rows of the common held-out set every model encodes.",
)
@click.option(
    "-k",
    "--k",
    "k",
    default=10,
    show_default=True,
    type=click.IntRange(1),
    help="Neighbours of the mutual k-NN score (on unit-normalised rows, Huh et al. 2024).",
)
@opt.executor("models train")
@opt.run_directory(
    "Directory for align.json, report.md/.html, figures/, the store and the embeddings "
    "(default: runs/align-NAME-HASH; rerunning resumes it)."
)
@opt.store("Use the result store of this directory (shared with sweeps and other alignments).")
@opt.evaluation_time_limit("one model (checks + training)")
@opt.oracle("oracle_mode")
@opt.no_plots
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
    executor,
    workers,
    threads,
    address,
    out,
    store,
    evaluation_time_limit,
    oracle_mode,
    no_plots,
    figure_formats,
    track_uri,
    tensorboard_dir,
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
    vary = parse_vary(vary_items, None) if vary_items else None
    theorem, process, imports = subject(name, process_spec)
    if out is None:
        config = {
            "learners": learner_list,
            "vary": list(vary_items),
            "seeds": seeds,
            "seed": seed,
            "n_eval": n_eval,
            "oracle": oracle_mode,
        }
        out = default_out("align", name, process, config)

    def run(progress):
        return align(
            theorem,
            learner_list,
            seeds=seeds,
            seed=seed,
            vary=vary,
            process=process,
            n_eval=n_eval,
            k=k,
            executor=executor,
            workers=workers,
            threads=threads,
            address=address,
            out=out,
            store=store,
            imports=imports,
            evaluation_time_limit=evaluation_time_limit,
            oracle=oracle_mode,
            plots=not no_plots,
            on_model=progress.update if progress else None,
            figures=parse_figures(figure_formats),
        )

    def summarise(result, doc: dict) -> None:
        header, rows = model_rows(doc)
        print_summary(
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

    execute(
        "align",
        run,
        progress=None if quiet or as_json else AlignProgress(),
        out=out,
        as_json=as_json,
        quiet=quiet,
        track_uri=track_uri,
        tensorboard_dir=tensorboard_dir,
        summarise=summarise,
        records=lambda r: store_records(Path(store or out), r.models, r.theorem),
        params=lambda r, doc: {"learners": ",".join(r.learners), "seeds": len(r.seeds)},
        failure=failure,
    )
