//! Holds the test `tests/tap_namespace.rs` (the no_std client on embassy-net's TCP/IP stack
//! over a TAP device in a network namespace, with a real nats-server and nginx) and the
//! interop matrix's embassy-net agent, `src/bin/interop_embassy.rs`.
