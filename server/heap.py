"""Keep the cyclic garbage collector's full passes short in a long-running server.

After startup the process holds about 250,000 long-lived objects (imported libraries, the compiled graph,
tool schemas). Every full collection walks all of them, about 75 ms with every thread stopped, and under
load full collections come often. Freezing the startup heap once leaves those passes only what requests
allocate.
"""

from __future__ import annotations

import gc
import threading

__all__ = ["freeze_startup_heap"]

_lock = threading.Lock()
_frozen = False


def freeze_startup_heap() -> bool:
    """Collect once, then move every object alive now out of the collector's reach (once per process).

    Returns whether this call froze it. Frozen objects that later become cyclic garbage are not freed,
    which is why this happens once, after startup, and not per app or per request.
    """
    global _frozen
    with _lock:
        if _frozen:
            return False
        gc.collect()
        gc.freeze()
        _frozen = True
        return True
