# Starts a MicroPython program as a board with its code in flash would: the ROMFS image
# named by NATSBRIDGE_ROMFS (built by romfs.py) is read into one buffer, mounted at /rom,
# and the module named by NATSBRIDGE_ROM_MAIN is imported from there. The bytecode then
# runs in place from the image (as from flash); romfs.py adds the image's size to the heap.

import gc
import sys

try:
    import os
except ImportError:
    import uos as os
import vfs

path = os.getenv("NATSBRIDGE_ROMFS")
image = bytearray(os.stat(path)[6])
f = open(path, "rb")
f.readinto(image)
f.close()
f = None
vfs.mount(vfs.VfsRom(image), "/rom")
sys.path.insert(0, "/rom")
gc.collect()
__import__(os.getenv("NATSBRIDGE_ROM_MAIN"))
