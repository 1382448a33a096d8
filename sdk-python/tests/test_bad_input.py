# Bad input from a NATS server (garbage_nats.py, started by run_all.py): bad control lines,
# wrong byte counts, huge sizes, missing CRLF, binary junk. Each gives a NatsBridgeError that
# says what was wrong, closes the connection, and never hangs or crashes the interpreter.

import nats_bridge as nb
from nbtest import need, raises

PROTOCOL_ERRORS = [
    "unknown_op", "binary_junk", "msg_missing_args", "msg_negative_size", "msg_size_not_a_number",
    "msg_huge_size", "msg_wrong_byte_count", "hmsg_headers_longer_than_total", "hmsg_headers_not_utf8",
    "subject_not_utf8", "control_line_without_crlf", "bare_newlines", "err_not_utf8", "info_not_an_object",
    "info_update_max_payload_not_an_integer",
]


def _garbage(scenario):
    c = nb.NatsClient(need("NATSBRIDGE_GARBAGE_NATS_URL"), name=scenario, timeout=3.0)
    c.connect()
    return c


def test_malformed_protocol_is_a_clear_error_and_closes_the_connection():
    for scenario in PROTOCOL_ERRORS:
        c = _garbage(scenario)
        try:
            e = raises("protocol", c.wait_msg, 4.0)
            assert need("NATSBRIDGE_GARBAGE_NATS_URL") in str(e), (scenario, str(e))
            assert not c.is_connected(), scenario
        finally:
            c.close()


def test_an_info_update_after_the_handshake_changes_max_payload():
    # read in place, without a second INFO object (a small heap mid-transfer); server_info
    # stays the handshake's
    c = _garbage("info_update")
    try:
        assert c.wait_msg(1.0) is None  # the INFO update and a PING, answered
        assert c.is_connected() and c.max_payload == 512, c.max_payload
        assert c.server_info["max_payload"] == 1048576, c.server_info
        raises("too_large", c.publish, "a.b", b"x" * 600)
    finally:
        c.close()


def test_a_connection_cut_mid_message_is_a_nats_error():
    for scenario in ["truncated_body", "closed_mid_line"]:
        c = _garbage(scenario)
        try:
            raises("nats", c.wait_msg, 4.0)
            assert not c.is_connected(), scenario
        finally:
            c.close()


def test_a_greeting_that_is_not_json_fails_the_connect():
    e = raises("protocol", nb.NatsClient(need("NATSBRIDGE_GARBAGE_INFO_URL"), timeout=3.0).connect)
    assert "INFO" in str(e), str(e)


def test_an_oversized_message_is_refused_before_it_is_read():
    c = _garbage("msg_huge_size")
    try:
        e = raises("protocol", c.wait_msg, 4.0)
        assert "99999999999999" in str(e) and "max_payload" in str(e), str(e)
    finally:
        c.close()
