# The asyncio API's small cases (of test_aio.py) on a small MicroPython heap, the code in
# a ROMFS image (run_all.py's small-heap run): publish/subscribe, request, JetStream, a
# small link up and down, a 5 MB link streamed to a file, a slow file server while the
# loop ticks, and connect errors.

from test_aio import (  # noqa: F401  (mpy_runner and pytest run what is imported here)
    test_a_multi_megabyte_link_streams_to_a_file,
    test_a_slow_file_server_does_not_stall_the_loop,
    test_connect_errors_are_clear,
    test_jetstream_publish_with_ack_and_dedup,
    test_publish_subscribe_as_an_async_iterator,
    test_request_with_timeout_and_no_responders,
    test_the_one_call_form_and_a_corrupted_link,
)
