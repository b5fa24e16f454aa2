"""Last of every forkserver preload (:func:`verification._executors.warm.preload_list`):
importing it freezes what the preload imported (:func:`gc.freeze`: the collector
leaves those objects alone from now on, in the forkserver and in every worker forked
from it, whose collections then neither walk nor write to the inherited heap) and
resumes the collector that :mod:`verification._executors.gc_pause` paused.
Private: imported for this effect only, by the forkserver only."""

import gc

gc.freeze()
gc.enable()
