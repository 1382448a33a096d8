# One import measurement for import_footprint.py: the heap (gc.mem_alloc) and qstr pool
# each module's import takes, the code in a ROMFS image. Prints one "MODULE BYTES" line
# per module (each beside the ones before), then "qstr BYTES" (the pool's total bytes after the imports).

import gc
import micropython

try:
    import asyncio  # noqa: F401  (measured on its own, so nats_bridge_aio's figure is its own)
except ImportError:
    import uasyncio as asyncio  # noqa: F401

gc.collect()
for name in ("nats_bridge", "nats_bridge_aio", "nats_bridge_typed"):
    before = gc.mem_alloc()
    __import__(name)
    gc.collect()
    print("%s %d" % (name, gc.mem_alloc() - before))
micropython.qstr_info()
