"""``sith sweep``: a theorem's recovery over a grid (or a random sample) of settings."""

from __future__ import annotations

import dataclasses

import click

from verification.cli import _options as opt
from verification.cli import _runs
from verification.cli._common import m, parse_settings


@dataclasses.dataclass(frozen=True)
class Slurm:
    """Where and how a sweep's SLURM jobs run (submitit)."""

    slurm_partition: str | None = None
    slurm_time: int = 60
    slurm_cluster: str | None = None
    slurm_items: tuple[str, ...] = ()

    def arguments(self) -> dict:
        """``sweep``'s keyword arguments for SLURM; ``--slurm-option`` values checked."""
        options = parse_settings(self.slurm_items, "--slurm-option") if self.slurm_items else None
        return {
            "slurm_partition": self.slurm_partition,
            "slurm_time": self.slurm_time,
            "slurm_cluster": self.slurm_cluster,
            "slurm_options": options,
        }


@click.command("sweep")
@click.argument("name")
@opt.vary(
    "A process field (dim, conditional.kappa, mixing.depth, ...) or learner option "
    "(learner.n_train, train.batch_size, encoder.width, ...) and its values; repeat for a "
    "grid. With --random, also KEY=LOW..HIGH or KEY=LOW..HIGH:log."
)
@opt.seeds("Seeds per setting: SEED, SEED+1, ...")
@opt.seed
@click.option(
    "--random",
    "random_n",
    type=click.IntRange(1),
    help="Sample this many settings from the --vary values and ranges instead of the "
    "grid (seeded by --seed).",
)
@opt.process("The Process to sweep around (default: the theorem's canonical process).")
@opt.executor(
    "evaluations run",
    (*opt.EXECUTOR_CHOICES, "slurm"),
    registered=True,
    help_text="Where evaluations run: serial, local (a process pool), dask, slurm, or an "
    "executor registered by --import.",
    workers_help="Worker processes (local, dask) or jobs at a time (slurm); default: the cores.",
    threads_help="torch/BLAS threads per worker (workers x threads should not exceed the cores).",
    address_help="Dask scheduler to use (default: a local cluster of --workers processes).",
)
@opt.packed(
    "slurm",
    Slurm,
    click.option("--slurm-partition", metavar="NAME", help="SLURM partition of the jobs."),
    opt.shown("--slurm-time", 60, click.IntRange(1), "Minutes each SLURM job may run."),
    click.option(
        "--slurm-cluster",
        type=click.Choice(["slurm", "local", "debug"]),
        help="submitit backend (default: slurm where sbatch exists; local: the same jobs as "
        "subprocesses here, to try a setup).",
    ),
    click.option(
        "--slurm-option",
        "slurm_items",
        multiple=True,
        metavar="KEY=VALUE",
        help="Another submitit parameter, e.g. slurm_account=lab or mem_gb=8.",
    ),
)
@opt.shown(
    "--device",
    "auto",
    click.Choice(["auto", "cpu", "cuda"]),
    "Passed to learners that take a device option (auto: cuda when available): "
    "InfoNCE, VICReg and Barlow Twins; the other learners train on the CPU.",
)
@opt.run_settings(
    "Directory for sweep.json, sweep.csv, report.md/.html, figures/ and the store "
    "(default: runs/sweep-NAME-HASH, one per distinct sweep; rerunning resumes it).",
    "Use the result store of this directory instead of OUT's (sweeps and searches "
    "sharing a store share their evaluations).",
    "one evaluation (checks + training)",
)
@opt.outputs
@click.option(
    "--yes",
    is_flag=True,
    help="Run a sweep of more than 10,000 evaluations (refused without it: exit 2).",
)
@opt.json_option("Print sweep.json.")
@opt.quiet
def sweep_command(
    name,
    vary_items,
    seeds,
    seed,
    random_n,
    process_spec,
    run_on,
    slurm,
    device,
    run,
    outputs,
    yes,
    as_json,
    quiet,
):
    """Sweep theorem NAME's recovery over a grid (or a random sample) of settings x seeds.

    Every evaluation goes through the result store: a stopped sweep resumes where it
    stopped when rerun, and never recomputes a finished (setting, seed). Writes
    OUT/sweep.json, sweep.csv, report.md, report.html and figures/.

    Before any work it prints its plan (evaluations, executor, a rough time estimate
    from the store or the first evaluation); above 10,000 evaluations it runs only
    with --yes.

    \b
    Examples:
      sith sweep cl-ica --vary train.batch_size=64,256,1024 --seeds 3 --out runs/bs
      sith sweep cl-ica --vary learner.n_train=100,1000,10000 --vary conditional.kappa=2,10 \\
          --executor local --workers 2 --out runs/finite
      sith sweep cl-ica --vary train.lr=0.001..0.1:log --random 8 --executor dask
      sith sweep cl-ica --vary dim=2,3,4 --executor slurm --slurm-partition gpu --slurm-time 30
    """
    from verification._sweep import sweep
    from verification._sweep.plan import CONFIRM_ABOVE
    from verification._sweep.reports import table_header, table_rows
    from verification.cli._progress import SweepProgress, say

    vary = _runs.parse_vary(vary_items, random_n)
    on_slurm = slurm.arguments()
    theorem, process, imports = _runs.subject(name, process_spec)
    out = run.out
    if out is None:  # one directory per sweep, however its --vary is spelled
        from verification._sweep.settings import normalised_settings

        config = {
            "vary": normalised_settings(theorem, vary, process=process, random=random_n),
            "seeds": seeds,
            "seed": seed,
            "random": random_n,
            "oracle": run.oracle,
        }
        out = _runs.default_out("sweep", name, process, config)
    show = not (quiet or as_json)

    def start(progress):
        return sweep(
            theorem,
            vary,
            random=random_n,
            device=device,
            on_row=progress.update if progress else None,
            max_evaluations=None if yes else CONFIRM_ABOVE,
            on_plan=(lambda plan: say(plan.describe(), progress)) if show else None,
            **on_slurm,
            **_runs.arguments(run, run_on, outputs, process, seeds, seed, out, imports),
        )

    def summarise(result, doc: dict) -> None:
        _runs.print_summary(
            f"[bold]{m(result.theorem)}[/]: {result.evaluations} evaluations "
            f"({result.new_evaluations} new) of {len(result.settings)} settings x "
            f"{len(result.seeds)} seeds in {result.seconds:.0f} s, status {result.status}",
            "sweep",
            table_header(doc),
            table_rows(doc),
            f"sweep: {out}/sweep.json, {out}/sweep.csv, {out}/report.md, {out}/report.html",
        )

    def failure(result) -> str | None:
        if result.rows and len(result.errors) == len(result.rows):
            return f"every evaluation failed; the first with {result.errors[0]['error']}"
        return None

    _runs.execute(
        "sweep",
        start,
        progress=SweepProgress() if show else None,
        out=out,
        as_json=as_json,
        quiet=quiet,
        outputs=outputs,
        summarise=summarise,
        records=lambda r: _runs.store_records(r.store or r.out, r.rows, r.theorem),
        params=lambda r, doc: {"vary": doc["vary"], "seeds": len(r.seeds), "seed": seed},
        failure=failure,
    )
