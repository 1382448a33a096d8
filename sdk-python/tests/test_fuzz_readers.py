# A short seeded property test of the readers that take network input (issue 14): mutated
# HTTP responses and NATS server streams go through a real socket (hostile_http.py replays
# the staged bytes; garbage_nats.py sends the bytes named in CONNECT) into download() and
# NatsClient. Every outcome is a NatsBridgeError or success, never another exception and
# never a hang. Same seeds, same inputs on CPython and MicroPython (our own generator).

import nats_bridge as nb
from nbtest import FAST, need, unique

SEED = 14
HTTP_CASES = 120
NATS_CASES = 60

HTTP_BASES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=1\r\nlo\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello",
    b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy",
]
NATS_BASES = [
    b"MSG fz.a 1 5\r\nhello\r\n",
    b"MSG fz.a 1 reply.x 5\r\nhello\r\nPING\r\n",
    b"HMSG fz.a 1 22 27\r\nNATS/1.0\r\nA: b\r\nC: d\r\n\r\nhello\r\n",
    b"HMSG fz.a 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n",
    b"+OK\r\nPONG\r\n-ERR 'Unknown Protocol Operation'\r\n",
    b'INFO {"max_payload":1024,"headers":true}\r\nMSG fz.a 1 2\r\nhi\r\n',
]
SPICE = [b"\r\n", b"\r", b"\n", b" ", b"\t", b"\x00", b"\xff", b"-1", b"99999999999999999999", b"zz", b";", b":", b"0"]


class Rng:
    # A small linear congruential generator: the same numbers on every interpreter.
    def __init__(self, seed):
        self.state = seed

    def below(self, n):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.state >> 8) % n


def mutate(rng, data):
    out = bytes(data)  # bytes slicing only: MicroPython's bytearray has no del or insertion
    for _ in range(1 + rng.below(4)):
        what = rng.below(5)
        i = rng.below(len(out) + 1)
        if what == 0 and out:  # flip a byte
            i = min(i, len(out) - 1)
            out = out[:i] + bytes([rng.below(256)]) + out[i + 1:]
        elif what == 1:  # insert something that matters to a parser
            out = out[:i] + SPICE[rng.below(len(SPICE))] + out[i:]
        elif what == 2:  # cut the stream
            out = out[:i]
        elif what == 3:  # drop a few bytes
            out = out[:i] + out[i + 1 + rng.below(4):]
        else:  # repeat a part
            out = out[:i] + out[i:i + rng.below(20)] + out[i:]
    return out


def _outcome(fn):
    # "ok" or the NatsBridgeError kind; anything else fails the test, naming the input.
    try:
        fn()
        return "ok"
    except nb.NatsBridgeError as e:
        return e.kind


def test_mutated_http_responses_give_data_or_a_natsbridge_error():
    hostile = need("NATSBRIDGE_HOSTILE_URL")
    rng = Rng(SEED)
    kinds = {}
    for n in range(HTTP_CASES):
        data = mutate(rng, HTTP_BASES[n % len(HTTP_BASES)])
        name = unique("fz").replace(".", "_")
        status, _, _ = nb.http_request("POST", hostile + "/stage/" + name, data)
        assert status == 204, status
        try:
            kind = _outcome(lambda: nb.download(hostile + "/replay/" + name, 5, None, None, 1, timeout=2.0, **FAST))
        except Exception as e:
            raise AssertionError("case %d %r: %s: %s" % (n, data, type(e).__name__, e))
        kinds[kind] = kinds.get(kind, 0) + 1
    print("http outcomes: %r" % kinds)
    assert len(kinds) >= 3, "the mutations did not reach several outcomes: %r" % kinds


def _drain(c):
    while c.wait_msg(0.5) is not None:
        pass


def test_mutated_nats_streams_give_messages_or_a_natsbridge_error():
    url = need("NATSBRIDGE_GARBAGE_NATS_URL")
    rng = Rng(SEED + 1)
    kinds = {}
    for n in range(NATS_CASES):
        data = mutate(rng, NATS_BASES[n % len(NATS_BASES)])
        hexed = "".join("%02x" % b for b in data)
        c = nb.NatsClient(url, name="raw:" + hexed, timeout=2.0)
        try:
            c.connect()
            c.subscribe("fz.a")
            kind = _outcome(lambda: _drain(c))
        except Exception as e:
            if isinstance(e, nb.NatsBridgeError):
                kind = e.kind
            else:
                raise AssertionError("case %d %r: %s: %s" % (n, data, type(e).__name__, e))
        finally:
            c.close()
        kinds[kind] = kinds.get(kind, 0) + 1
    print("nats outcomes: %r" % kinds)
    assert len(kinds) >= 2, "the mutations did not reach several outcomes: %r" % kinds


def test_the_receive_buffer_gives_the_same_lines_however_the_bytes_are_cut():
    # nats_bridge._Received, which both readers parse in place: a stream cut into reads of
    # any size gives the same lines and pieces; a line longer than the buffer grows it (to
    # the power of two that holds it, never more), held bytes move to the front as it fills.
    stream = b"INFO {}\r\nMSG a 1 5\r\nhello\r\n" + b"x" * 40 + b"\r\nPING\r\nbody!"
    want = [b"INFO {}", b"MSG a 1 5", b"hello", b"x" * 40, b"PING"]
    for size in (1, 2, 3, 7, 8, 64):
        r = nb._Received(8)
        got = []
        pos = 0
        while len(got) < len(want):
            line = r.line()
            if line is not None:
                got.append(line)
                continue
            room = r.room()
            n = min(len(room), size, len(stream) - pos)
            assert n > 0, (size, got)
            room[:n] = stream[pos:pos + n]
            pos += n
            r.w += n
        assert got == want, (size, got)
        assert len(r.buf) == 64, (size, len(r.buf))
        while pos < len(stream):  # the rest, taken as pieces of at most 2 bytes
            room = r.room()
            room[:1] = stream[pos:pos + 1]
            pos += 1
            r.w += 1
        pieces = []
        while len(r):
            pieces.append(bytes(r.view(2)))
        assert pieces == [b"bo", b"dy", b"!"], pieces
        assert r.line() is None and (r.r, r.w) == (0, 0)
