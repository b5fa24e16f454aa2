"""First of every forkserver preload (:func:`verification._executors.warm.preload_list`):
importing it pauses the garbage collector while the forkserver imports torch and
sith's modules. Those imports create hundreds of thousands of objects and no garbage,
and each full collection they trigger walks all of them: about 0.15 s of the
forkserver's start-up on the 2-core machine, before any worker can start.
:mod:`verification._executors.gc_resume`, the last of the preload, resumes it.
Private: imported for this effect only, by the forkserver only."""

import gc

gc.disable()
