# pytest on CPython: the module under test and the shared helpers are found from here.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
os.environ.setdefault("NATSBRIDGE_ROOT", os.path.dirname(os.path.dirname(HERE)))

collect_ignore = ["test_envelope.py", "small_heap_goldens.py", "decode_lines.py", "helper_server.py", "hostile_http.py", "servers.py", "run_all.py", "mpy_runner.py", "measure_heap.py", "heap_probe.py", "romfs.py", "rom_boot.py"]
