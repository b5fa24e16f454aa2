"""The executors by job (private): :mod:`verification.executors` is their public face.

``base``: the interface, its outcome, thread pinning and the serial executor; ``local``:
a process pool; ``dask_client``: a Dask client; ``slurm``: submitit jobs. ``warm``: what
a worker process imports once, how worker processes are pinned to their threads, and
starting the local pool's forkserver early (stdlib only: the ``sith`` console script
calls it before it imports torch).
"""
