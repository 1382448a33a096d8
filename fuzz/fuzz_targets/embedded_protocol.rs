//! Fuzzes the no_std NATS protocol parser: a received stream parsed operation by operation,
//! whole and split at every point a socket could split it, with limits on the control line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natsbridge_embedded::protocol::{Parsed, ServerOp, parse};

/// Parses `stream` operation by operation and returns the operations' lengths, or where it
/// stopped: `Err(offset)` at a protocol error, `Ok` with the bytes left incomplete.
fn parse_all(stream: &[u8], limit: usize) -> (Vec<usize>, Result<usize, usize>) {
    let mut lens = Vec::new();
    let mut at = 0;
    loop {
        match parse(&stream[at..], limit) {
            Ok(Parsed::Op { len, op }) => {
                assert!(len > 0 && len <= stream.len() - at, "length in bounds");
                if let ServerOp::Msg(msg) = op {
                    assert!(msg.payload.len() <= len);
                    let _ = msg.status();
                }
                lens.push(len);
                at += len;
            }
            Ok(Parsed::Incomplete { pending }) => {
                if let Some(header) = pending {
                    assert!(
                        header.frame_len > stream.len() - at,
                        "a pending frame is not here yet"
                    );
                }
                return (lens, Ok(stream.len() - at));
            }
            Err(_) => return (lens, Err(at)),
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&limit_byte, stream)) = input.split_first() else {
        return;
    };
    let limit = 8 + usize::from(limit_byte) * 16;
    let (whole, whole_end) = parse_all(stream, limit);
    // A prefix of the stream gives a prefix of the operations: the parser keeps no state, so
    // bytes arriving in two reads mean the same as in one.
    let cut = usize::from(limit_byte) % (stream.len() + 1);
    let (prefix, prefix_end) = parse_all(&stream[..cut], limit);
    assert!(prefix.len() <= whole.len());
    assert_eq!(
        prefix[..],
        whole[..prefix.len()],
        "a prefix parses the same"
    );
    if let Err(at) = prefix_end {
        assert_eq!(
            whole_end,
            Err(at),
            "an error in a prefix is an error in the whole"
        );
    }
});
