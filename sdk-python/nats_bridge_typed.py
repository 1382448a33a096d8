"""nats_bridge_typed: typed payloads for nats_bridge, on CPython and MicroPython.

A team's own payload types are declared in a payload schema (JSON Schema, one type per
$defs entry) and generated into a module of its project with

    natsbridge-codegen payloads payloads.schema.json --python payloads.py

That module's classes are built on this file (copy it beside nats_bridge.py; it is kept
out of nats_bridge.py, whose every byte costs heap on a small board):

    import nats_bridge, nats_bridge_typed
    from payloads import SensorReading, SensorReadingLocation, Unit

    r = SensorReading("bme280", Unit.CELSIUS, 21.5, True, SensorReadingLocation("lab", -1))
    nats_bridge.smartsend("sensors", [("reading", r, "dictionary")])   # typed send
    for name, data, kind in nats_bridge_typed.smartreceive(msg, SensorReading):
        ...  # data is a SensorReading for the dictionary payloads

On the wire a typed value is a dictionary payload: its canonical JSON object (keys in
schema order), and the payload's metadata names its type: {"schema_type": "SensorReading"}.
A receiver asking for a type refuses a payload whose schema_type names another
(NatsBridgeError bad_value at payloads[i].metadata.schema_type; the error's .received holds
the untyped (dataname, data, type) list, .envelope the envelope) and reads a payload without
one (an original-edition or untyped sender) as the type asked for (when several types are
asked for it, it stays untyped).

Receivers check what the envelope's classes check (JSON types, required keys, enumeration
values, finite numbers) and, as every SDK does for payload types, the schema's capacities
(a string over x-max-bytes bytes of UTF-8, an array over maxItems: over_capacity) and bounds
(minimum/maximum: bad_value), each error naming the field (samples[2], reading.offset).
Senders (to_json, smartsend) refuse the same with invalid_input naming the field.
"""

import nats_bridge as nb
from nats_bridge import NatsBridgeError

REQUIRED = nb._REQUIRED  # the default of a key that has none, in the generated rows
enum_value = nb._enum_value  # the generated enumerations' normalize
SCHEMA_TYPE = "schema_type"  # the payload metadata key naming a typed payload's type
_STRINGS = ("str", "uuid", "date-time", "const")


def _number(v):
    return "%d" % v if isinstance(v, int) else nb._float_text(v)


def _limits(low, high):
    if low is not None and high is not None:
        return "%s to %s" % (_number(low), _number(high))
    return "at least %s" % _number(low) if low is not None else "at most %s" % _number(high)


def _bounded(kind, v, at, low, high, max_bytes):
    # A receiver's check of one decoded value beyond its JSON type: a string's UTF-8 bytes
    # within max_bytes (over_capacity), a number within [low, high] (bad_value).
    if kind in _STRINGS:
        n = len(v.encode("utf-8"))
        if n > max_bytes:
            raise NatsBridgeError(nb.KIND_OVER_CAPACITY, at, "%d bytes, over the schema's x-max-bytes of %d" % (n, max_bytes))
    elif (low is not None and v < low) or (high is not None and v > high):
        raise NatsBridgeError(nb.KIND_BAD_VALUE, at, "%s is out of range (%s)" % (_number(v), _limits(low, high)))


class PayloadStruct(nb._Struct):
    """The base of a payload schema's structures (TypedPayload, and the inline objects):
    nats_bridge's generic reader and writer of FIELDS, whose rows add
    (minimum, maximum, item_bytes) to the envelope's 8, plus the payload checks."""

    FIELDS = ()

    @classmethod
    def from_dict(cls, d, at=""):
        """The structure of a decoded JSON object d found at the place at: as
        nats_bridge's, then the capacities (over_capacity) and bounds (bad_value); errors
        name the place ("samples[2]", "reading.offset")."""
        obj = super().from_dict(d, at)
        obj._check(at)
        return obj

    def _check(self, at):
        # This level's capacities and bounds (a nested structure checked itself in its
        # from_dict), in the order of the rows, an array's size before its items.
        p = at + "." if at else ""
        for f in self.FIELDS:
            v = getattr(self, f[0])
            if v is None:
                continue
            where = p + f[0]
            if f[1] == "list":
                if len(v) > f[4]:
                    raise NatsBridgeError(nb.KIND_OVER_CAPACITY, where, "%d items, over the schema's maxItems of %d" % (len(v), f[4]))
                kind = f[5][0]
                if kind != "struct" and kind != "enum" and kind != "bool":
                    for i in range(len(v)):
                        _bounded(kind, v[i], "%s[%d]" % (where, i), f[8], f[9], f[10])
            elif f[1] != "struct" and f[1] != "enum" and f[1] != "bool":
                _bounded(f[1], v, where, f[8], f[9], f[4])

    def checked(self, at=""):
        """A copy of this value as a receiver would read it (nested values as their
        classes, numbers as floats where the schema says number): anything a receiver
        would refuse is NatsBridgeError invalid_input naming the field (at its prefix)."""
        try:
            return type(self).from_dict(self.to_dict(), at)
        except NatsBridgeError as e:
            raise NatsBridgeError(nb.KIND_INVALID_INPUT, e.at, "%s: %s" % (e.kind, e.detail))

    def to_json(self):
        """The canonical JSON text (str): keys in schema order, absent optional keys left
        out, after checking everything a receiver checks (invalid_input naming the field:
        a string over its x-max-bytes, an array over maxItems, a number out of bounds or
        not finite, a wrong type, an unknown enumeration value, a required key None)."""
        out = []
        self.checked()._write(out)
        return "".join(out)


class TypedPayload(PayloadStruct):
    """The base of a payload schema's $defs objects. TYPE_NAME is the $defs key, the same in
    every SDK; smartsend takes an instance as a dictionary payload's data and names its type
    in the payload's metadata ("schema_type")."""

    TYPE_NAME = ""

    @classmethod
    def from_payload(cls, data, metadata=None, at=""):
        """The value of a received dictionary payload: data is what smartreceive gave (the
        decoded JSON, or its text or bytes), metadata the payload's metadata
        (env.payloads[i].metadata). A schema_type naming another type is bad_value at
        at + ".metadata.schema_type"; without one (an untyped sender) data is read as this
        type; decoding errors name at + ".data" and the field."""
        return _decode((cls,), data, metadata, at)


def _decode(classes, data, metadata, at):
    # data read as the class of classes its metadata's schema_type names; without one, as
    # the only class asked, else left as it is (several asked: which one is not known).
    name = metadata.get(SCHEMA_TYPE) if isinstance(metadata, dict) else None
    if name is None and len(classes) > 1:
        return data
    cls = classes[0] if name is None else None
    for c in classes:
        if c.TYPE_NAME == name:
            cls = c
    if cls is None:
        raise NatsBridgeError(nb.KIND_BAD_VALUE, at + ".metadata." + SCHEMA_TYPE if at else "metadata." + SCHEMA_TYPE,
                              "the payload carries %r, not %s" % (name, " or ".join([c.TYPE_NAME for c in classes])))
    where = at + ".data" if at else ""
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        try:
            data = nb.loads(data)
        except NatsBridgeError as e:
            raise NatsBridgeError(nb.KIND_NOT_JSON, where, e.detail)
    return cls.from_dict(data, where)


def _classes(types, dataname):
    # The classes asked for the payload dataname: a class, a list or tuple of classes, or
    # a dict dataname -> class (or list); None when none is asked for it.
    if isinstance(types, dict):
        types = types.get(dataname)
        if types is None:
            return None
    return tuple(types) if isinstance(types, (list, tuple)) else (types,)


def typed_payloads(env, items, types):
    """items (smartreceive's (dataname, data, type) list of the envelope env) with each
    dictionary payload asked for read as its type: types is a TypedPayload class, a list
    of them (the one the payload's schema_type names; a payload without one is read as
    the class when one is asked, left untyped when several are) or a dict dataname ->
    class (or list), the other payloads as they came (and so does a link payload streamed
    to download_to: its data is the file's path or the sink; read it with from_payload). A payload whose
    schema_type names a type not asked for is NatsBridgeError bad_value at
    payloads[i].metadata.schema_type; any error's .received is items (untyped) and
    .envelope env."""
    out = []
    for i in range(len(items)):
        item = items[i]
        classes = _classes(types, item[0])
        streamed = env.payloads[i].transport == "link" and not isinstance(item[1], (dict, list))  # download_to
        if classes and item[2] == "dictionary" and not streamed:
            try:
                item = (item[0], _decode(classes, item[1], env.payloads[i].metadata, "payloads[%d]" % i), item[2])
            except NatsBridgeError as e:
                e.received = items
                e.envelope = env
                raise
        out.append(item)
    return out


def smartreceive(msg, types, **options):
    """nats_bridge.smartreceive(msg, **options), then typed_payloads with types: the
    dictionary payloads asked for come back as their classes. with_envelope=True gives
    (envelope, list). For the asyncio API: typed_payloads(*await
    nats_bridge_aio.smartreceive(msg, with_envelope=True), types)."""
    with_envelope = options.pop("with_envelope", False)
    env, items = nb.smartreceive(msg, with_envelope=True, **options)
    out = typed_payloads(env, items, types)
    return (env, out) if with_envelope else out
