"""Private helpers behind :mod:`verification.executors` (its public names live there).

``warm``: what a worker process imports once, how worker processes are pinned to their
threads, and starting the local pool's forkserver early (stdlib only: the ``sith``
console script calls it before it imports torch).
"""
