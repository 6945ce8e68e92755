"""Keep Python's cyclic garbage collector from pausing the window for ~45 ms at a time.

What the window holds for good (Qt wrappers, the vocabulary's index, the model's tokenizer and
weights: ~95,000 objects the collector tracks) makes a full collection take ~45 ms on the
development VM. One that starts while a result is handed to the views stalls the event loop:
the 512-token stall benchmark saw a 75 ms gap, 48 ms of it the collector, against ~30 ms.

So after each load of vectors or a model the collector runs once and everything alive then is
frozen (``gc.freeze``: left out of later collections, which then scan only what came after).
The next load first unfreezes, so what the old vectors or model leave in reference cycles is
collected, then freezes again. Objects without cycles are freed by reference counting either
way: freezing changes only what the cycle collector looks at.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_long_lived"]


def freeze_long_lived() -> int:
    """Collect, then freeze every object alive; the number frozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
