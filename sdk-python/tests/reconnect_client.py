# A subscriber that outlives its NATS server, as a board would run it: on a lost connection
# it calls reconnect() (bounded attempts, backoff with jitter, subscriptions restored) and
# goes on. Prints one line per event for test_reconnect_fault.py:
#
#     micropython reconnect_client.py nats://127.0.0.1:PORT SUBJECT

import sys

import nats_bridge as nb

url, subject = sys.argv[1], sys.argv[2]
c = nb.NatsClient(url, timeout=2.0).connect()
c.subscribe(subject)
c.flush()
print("ready")
while True:
    try:
        msg = c.wait_msg(1.0)
    except nb.NatsBridgeError as e:
        if e.kind != "nats":
            raise
        print("lost")
        c.reconnect(attempts=100, base_delay=20, max_delay=300)
        c.flush()
        print("reconnected")
        continue
    if msg is None:
        continue
    if msg.data == b"end":
        print("end")
        break
    print("got %s" % msg.data.decode("utf-8"))
c.close()
