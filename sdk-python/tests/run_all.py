"""Runs the nats_bridge test suite on CPython (pytest), on MicroPython, and its small
cases on small MicroPython heaps (the code in a ROMFS image, as in a board's flash): all
in one run on SMALL_HEAP, then each alone on SMALL_CASE_HEAP (64 KiB; SMALL_CASE_HEAPS
names the cases that need more), each run against its own freshly started servers.

    python3 sdk-python/tests/run_all.py [--only cpython|micropython|small-heap] [--tests a,b]

The small-heap run also runs the asyncio API's small cases (test_aio_small) on
AIO_SMALL_HEAP; with --tests, only when test_aio or test_aio_small is named.

Servers (servers.py): a test CA (openssl), nats-server x5 (one requiring TLS), nginx WebDAV (and https), helper_server.py, the misbehaving
file server `faulty-http` of tests/support (NATSBRIDGE_FAULTY_HTTP names the binary; its
tests fail without it) and, when NATSBRIDGE_SERVE_FILES names the `natsbridge` binary,
`natsbridge serve-files`; and an Object Store bucket on the JetStream server holding the
large pattern, linked by an envelope the std SDK sent (object_seed.py; this module sends it,
loudly, without the binary). Without
that variable the serve-files tests FAIL, unless --without-serve-files is given, which
leaves them out and says so loudly. Exits 1 when anything failed.
"""

import ast
import hashlib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.dirname(HERE)
ROOT = os.path.dirname(SDK)
sys.path.insert(0, HERE)

import object_seed  # noqa: E402
import romfs  # noqa: E402
import servers  # noqa: E402

FULL_SUITE = ["test_smart_goldens", "test_nats", "test_tls", "test_aio", "test_link", "test_bad_input",
              "test_link_safety", "test_faulty_http", "test_hostile_input", "test_fuzz_readers",
              "test_object_store", "test_readme", "test_typed_payloads"]
CPYTHON_ONLY = ["test_nats_py_peer", "test_reconnect_fault", "test_aio_reconnect", "test_object_store_std"]
SMALL_SUITE = ["test_small", "test_bad_input"]
AIO_SMALL_SUITE = ["test_aio_small"]  # the asyncio API's small cases (test_aio.py imports them)
SERVE_FILES_TESTS = ["test_serve_files"]
UPLOAD_TOKEN = "upload-s3cret"
MAX_UPLOAD = 8 * 1024 * 1024
# beside the code, which is in a ROMFS image: the small cases all in one run, and each alone
SMALL_HEAP = os.environ.get("NATSBRIDGE_SMALL_HEAP", "72K")
SMALL_CASE_HEAP = os.environ.get("NATSBRIDGE_SMALL_CASE_HEAP", "64K")
# cases that need more alone (64-bit unix port: 32-byte GC blocks; README "Small heaps"):
# the envelope's ~1 KB pieces list and text find no free block that large beside the
# 49 KB import on 64K or 66K (measured 2026-12-07)
SMALL_CASE_HEAPS = {"test_small.test_small_payloads_round_trip_through_nats": "68K"}
# the asyncio API beside it: nats_bridge + asyncio + nats_bridge_aio import about 50 KB; its
# small cases pass from about 102K (measured 2026-12-03, MicroPython 1.29 unix port; README)
AIO_SMALL_HEAP = os.environ.get("NATSBRIDGE_AIO_SMALL_HEAP", "112K")
LARGE_SIZE = 5 * 1000 * 1000  # the link payload the small heap streams to a file


class Servers:
    """Every server one run of the suite needs; all stopped on exit."""

    def __init__(self, with_serve_files):
        self.with_serve_files = with_serve_files
        self.children = []

    def __enter__(self):
        try:
            start = self.children.append
            self.tmp = tempfile.mkdtemp(prefix="natsbridge-py-")
            ca = servers.test_ca(self.tmp)
            secure = servers.nats_server(tls=ca)
            start(secure)
            main = servers.nats_server(jetstream=True)
            start(main)
            small = servers.nats_server(max_payload=65536, ping_interval="1s")
            start(small)
            users = servers.nats_server(user="alice", password="s3cret", jetstream=True)  # JetStream: test_readme
            start(users)
            token = servers.nats_server(token="t0ken")
            start(token)
            webdav = servers.nginx(tls=ca)
            start(webdav)
            helper = servers.helper_server()
            start(helper)
            hostile = servers.hostile_http()
            start(hostile)
            garbage = servers.garbage_nats()
            start(garbage)
            faulty = servers.faulty_http(os.environ.get("NATSBRIDGE_FAULTY_HTTP"))
            if faulty:
                start(faulty)
            large = bytes((i * 7) % 251 for i in range(LARGE_SIZE))
            os.mkdir(os.path.join(webdav.root, "large"))
            with open(os.path.join(webdav.root, "large", "pattern.bin"), "wb") as f:
                f.write(large)
            self.env = dict(os.environ)
            self.env.update({
                "NATSBRIDGE_ROOT": ROOT,
                "NATSBRIDGE_NATS_URL": main.url,
                "NATSBRIDGE_NATS_SMALL_URL": small.url,
                "NATSBRIDGE_NATS_USER_URL": users.url,
                "NATSBRIDGE_NATS_TOKEN_URL": token.url,
                "NATSBRIDGE_WEBDAV_URL": webdav.url,
                "NATSBRIDGE_WEBDAV_ROOT": webdav.root,
                "NATSBRIDGE_HTTPS_URL": webdav.https_url,
                "NATSBRIDGE_TLS_URL": secure.url,
                "NATSBRIDGE_TLS_CA": ca["ca"],
                "NATSBRIDGE_TLS_OTHER_CA": ca["other_ca"],
                "NATSBRIDGE_HELPER_URL": helper.url,
                "NATSBRIDGE_GARBAGE_NATS_URL": garbage.url,
                "NATSBRIDGE_HOSTILE_URL": hostile.url,
                "NATSBRIDGE_GARBAGE_INFO_URL": garbage.info_url,
                "NATSBRIDGE_FAULTY_URL": faulty.url if faulty else "",
                "NATSBRIDGE_FAULTY_DIR": faulty.workdir if faulty else "",
                "NATSBRIDGE_CLOSED_URL": "http://127.0.0.1:%d" % servers.free_port(),
                "NATSBRIDGE_TMP": self.tmp,
                "NATSBRIDGE_LARGE_URL": webdav.url + "/large/pattern.bin",
                "NATSBRIDGE_LARGE_SIZE": str(LARGE_SIZE),
                "NATSBRIDGE_LARGE_SHA256": hashlib.sha256(large).hexdigest(),
            })
            self.env.update(object_seed.seed(main.url, large, self.tmp, os.environ.get("NATSBRIDGE_SERVE_FILES")))
            if self.with_serve_files:
                binary = os.environ["NATSBRIDGE_SERVE_FILES"]
                files = servers.serve_files(binary, UPLOAD_TOKEN, MAX_UPLOAD)
                start(files)
                self.env.update({
                    "NATSBRIDGE_SERVE_FILES_URL": files.url,
                    "NATSBRIDGE_SERVE_FILES_TOKEN": UPLOAD_TOKEN,
                    "NATSBRIDGE_SERVE_FILES_MAX": str(MAX_UPLOAD),
                })
            return self
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc):
        for child in reversed(self.children):
            child.stop()
        if getattr(self, "tmp", None):
            subprocess.call(["rm", "-rf", self.tmp])


def run(what, argv, env, cwd=ROOT):
    print("\n==> %s\n    %s" % (what, " ".join(argv)), flush=True)
    code = subprocess.call(argv, env=env, cwd=cwd)
    print("<== %s: %s" % (what, "passed" if code == 0 else "FAILED (exit %d)" % code), flush=True)
    return code == 0


EXAMPLES = ["send_text", "send_config", "text_with_image", "request_reply", "large_payload_link", "typed_device --device"]


def run_examples(what, interpreter, s):
    # Each example of sdk-python/examples/, as a user runs it, against this run's servers.
    env = dict(s.env, NATS_URL=s.env["NATSBRIDGE_NATS_URL"], FILESERVER_URL=s.env["NATSBRIDGE_WEBDAV_URL"],
               UPLOAD="put", DOWNLOAD_DIR=s.tmp)
    ok = True
    for example in EXAMPLES:  # a name, then any arguments
        name, args = example.split()[0], example.split()[1:]
        ok = run("%s example %s" % (what, example), interpreter + [os.path.join(SDK, "examples", name + ".py")] + args, env) and ok
    return ok


def _small_image(s, modules, suite, imported):
    # As a board holds it: the code in flash (a ROMFS image of the SDK modules, the runner,
    # the suite and the test modules it imports); (path, size).
    image = os.path.join(s.tmp, "code-%s.romfs" % suite[0])
    files = [os.path.join(SDK, m + ".py") for m in modules] + [os.path.join(HERE, m + ".py") for m in ["nbtest", "mpy_runner"] + list(imported) + suite]
    return image, romfs.build_image(files, image)


def run_small_heap(s, heap, modules, suite, imported=()):
    # The suite in one run from a ROMFS image, heap of RAM beside it.
    image, size = _small_image(s, modules, suite, imported)
    argv, env = romfs.command(heap, "mpy_runner", image, size, dict(s.env, NATSBRIDGE_TESTS=",".join(suite)))
    return run("MicroPython, %s heap, %s, code in a ROMFS image of %d bytes" % (heap, ", ".join(suite), size), argv, env)


def test_names(module):
    # The test_* functions a test module defines or imports, as mpy_runner finds them.
    with open(os.path.join(HERE, module + ".py")) as f:
        tree = ast.parse(f.read())
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.ImportFrom):
            names += [a.asname or a.name for a in node.names]
    return sorted(n for n in names if n.startswith("test_"))


def run_small_cases(s, heap, modules, suite, imported=()):
    # Each case of the suite alone, as the one application of a board, heap of RAM beside
    # the ROMFS image: one interpreter per case, so no case pays for what another left.
    image, size = _small_image(s, modules, suite, imported)
    ok = True
    for m in suite:
        for t in test_names(m):
            case = "%s.%s" % (m, t)
            h = heap if "NATSBRIDGE_SMALL_CASE_HEAP" in os.environ else SMALL_CASE_HEAPS.get(case, heap)
            argv, env = romfs.command(h, "mpy_runner", image, size, dict(s.env, NATSBRIDGE_TESTS=case))
            ok = run("MicroPython, %s heap, %s alone" % (h, case), argv, env) and ok
    return ok


def main():
    args = sys.argv[1:]
    only = args[args.index("--only") + 1] if "--only" in args else None
    with_serve_files = bool(os.environ.get("NATSBRIDGE_SERVE_FILES"))
    suite_extra = []
    if with_serve_files:
        suite_extra = SERVE_FILES_TESTS
    elif "--without-serve-files" in args:
        print("!!! NATSBRIDGE_SERVE_FILES is not set: the `natsbridge serve-files` (Plik API) tests are NOT RUN !!!")
    else:
        suite_extra = SERVE_FILES_TESTS  # they fail, saying what to set
    if "--tests" in args:  # while working on some: --tests test_nats,test_link
        FULL_SUITE[:] = args[args.index("--tests") + 1].split(",")
        EXAMPLES[:] = []
        CPYTHON_ONLY[:] = []
        suite_extra = []
    micropython = servers.program("micropython")
    results = {}
    if only in (None, "cpython"):
        with Servers(with_serve_files) as s:
            files = [os.path.join(HERE, m + ".py") for m in FULL_SUITE + CPYTHON_ONLY + suite_extra]
            results["cpython"] = run("CPython (pytest)", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"] + files, s.env)
            results["cpython examples"] = run_examples("CPython", [sys.executable], s)
    if only in (None, "micropython"):
        with Servers(with_serve_files) as s:
            argv = [micropython, "-X", "heapsize=32M", os.path.join(HERE, "mpy_runner.py")] + FULL_SUITE + suite_extra
            results["micropython"] = run("MicroPython", argv, s.env)
            results["micropython examples"] = run_examples("MicroPython", [micropython, "-X", "heapsize=32M"], s)
    if only in (None, "small-heap"):
        with Servers(with_serve_files) as s:
            results["small heap"] = run_small_heap(s, SMALL_HEAP, ["nats_bridge"], SMALL_SUITE)
            results["small heap, each case alone"] = run_small_cases(s, SMALL_CASE_HEAP, ["nats_bridge"], SMALL_SUITE)
            if "--tests" not in args or "test_aio" in FULL_SUITE or "test_aio_small" in FULL_SUITE:
                results["small heap asyncio"] = run_small_heap(s, AIO_SMALL_HEAP, ["nats_bridge", "nats_bridge_aio"], AIO_SMALL_SUITE)
    print("\n" + ", ".join("%s %s" % (k, "passed" if v else "FAILED") for k, v in results.items()))
    if not all(results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
