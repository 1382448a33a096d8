//! Fuzzes the std SDK's receive side without a network: any bytes through
//! `MessageEnvelope::from_json`, and envelopes of direct payloads through `smartreceive`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natsbridge::{MessageEnvelope, ReceiveOptions, Transport};

fuzz_target!(|body: &[u8]| {
    let Ok(envelope) = MessageEnvelope::from_json(body) else {
        return;
    };
    // What was decoded encodes, and its canonical text decodes to the same envelope.
    let canonical = envelope.to_json_vec();
    let again = MessageEnvelope::from_json(&canonical).expect("canonical text decodes");
    assert_eq!(again.to_json_vec(), canonical, "canonical text is stable");
    // Link payloads would be fetched: only envelopes of direct payloads go on.
    if envelope
        .payloads
        .iter()
        .any(|p| p.transport != Transport::Direct)
    {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let received = runtime.block_on(natsbridge::smartreceive(body, &ReceiveOptions::default()));
    if let Ok(received) = received {
        assert_eq!(received.payloads.len(), envelope.payloads.len());
    }
});
