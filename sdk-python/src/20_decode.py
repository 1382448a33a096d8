# Checks the generated from_dict() methods call, one per field type. Each takes the
# place `at` of the value for its error, e.g. "payloads[0].size".

_REQUIRED = object()  # the default of a key that has none


def _json_type(v):
    # The JSON name of the type of a decoded value, for error messages.
    if isinstance(v, str):
        return "a string"
    if v is True or v is False:
        return "a boolean"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "an array"
    return type(v).__name__


def _wrong_type(v, at, expected):
    return NatsBridgeError("wrong_type", at, "expected %s, got %s" % (expected, _json_type(v)))


def _field(d, key, aliases, default, prefix):
    # The value of key in d, else of its first alias present, else default (a fresh one
    # on every call, as the caller passes a new literal); missing_key when there is none.
    if key in d:
        return d[key]
    for alias in aliases:
        if alias in d:
            return d[alias]
    if default is _REQUIRED:
        raise NatsBridgeError("missing_key", prefix + key, "the key %s is missing" % key)
    return default


def _string(v, at):
    if not isinstance(v, str):
        raise _wrong_type(v, at, "a string")
    return v


def _unsigned(v, at):
    # int but not bool (a bool is an int on CPython), >= 0, and fits 64 bits as in Rust.
    if v is True or v is False or not isinstance(v, int) or v < 0 or v > 0xFFFFFFFFFFFFFFFF:
        raise _wrong_type(v, at, "an integer from 0 to 2^64-1")
    return v


def _object(v, at):
    if not isinstance(v, dict):
        raise _wrong_type(v, at, "an object")
    return v


def _array(v, at, item_class):
    # A list of objects, each decoded by item_class.from_dict at "at[i]".
    if not isinstance(v, list):
        raise _wrong_type(v, at, "an array")
    items = []
    for i in range(len(v)):
        item_at = "%s[%d]" % (at, i)
        if not isinstance(v[i], dict):
            raise _wrong_type(v[i], item_at, "an object")
        items.append(item_class.from_dict(v[i], item_at))
    return items


def _enum_value(enum_class, v, at):
    # v mapped through enum_class.ALIASES; a value the class does not know is kept when
    # the enumeration is open and bad_value when it is closed.
    if not isinstance(v, str):
        raise _wrong_type(v, at, "a string")
    v = enum_class.ALIASES.get(v, v)
    if enum_class.OPEN or v in enum_class.SENT or v in enum_class.RECEIVE_ONLY:
        return v
    raise NatsBridgeError(
        "bad_value", at, "%s is not one of %s" % (_quote(v), ", ".join(enum_class.SENT + enum_class.RECEIVE_ONLY))
    )


def _write_items(out, items):
    # Appends the canonical JSON array of generated objects.
    sep = "["
    for item in items:
        out.append(sep)
        item._write(out)
        sep = ","
    out.append("]" if sep == "," else "[]")
