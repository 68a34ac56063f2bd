"""Dagster, imported and then set aside by the garbage collector, before the code location's
own modules load.

``import dagster`` leaves about 110,000 objects that live as long as the process. The first full
collection, due while the code location's modules load, would scan them all (about 0.1 s of
every load: each run worker, code server start and CLI call), and the one at exit again.
``gc.freeze()`` moves them to the permanent generation, so collections scan only newer objects.
Reference counting frees them as usual; only a cycle among them would never be collected.
"""

import gc

import dagster as dg

gc.freeze()

__all__ = ["dg"]
