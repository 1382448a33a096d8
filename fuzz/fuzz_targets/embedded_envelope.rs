//! Fuzzes the no_std SDK's envelope decoders: the owned `MessageEnvelope`, the borrowed
//! `MessageEnvelopeView`, and the direct-payload decoders of both, on the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natsbridge_embedded::smart::{decode_direct, decode_direct_view};
use natsbridge_embedded::{Message, MessageEnvelope, MessageEnvelopeView, MessageView, Transport};

fuzz_target!(|body: &[u8]| {
    let mut out = [0u8; 4096];
    let mut view_out = [0u8; 4096];
    let view = MessageEnvelopeView::decode(body);
    if let Ok(view) = &view {
        for payload in view.payloads.iter() {
            if payload.transport == Transport::Direct {
                let _ = decode_direct_view(payload, &mut view_out);
            }
        }
    }
    let Ok(envelope) = MessageEnvelope::decode(body) else {
        return;
    };
    // The owned decoder only accepts what the borrowed one does.
    let view = view.expect("the view decodes what the owned decoder decodes");
    assert_eq!(view.payloads.len(), envelope.payloads.len());
    for (payload, payload_view) in envelope.payloads.iter().zip(view.payloads.iter()) {
        if payload.transport != Transport::Direct {
            continue;
        }
        let owned = decode_direct(payload, &mut out).map(<[u8]>::to_vec);
        let viewed = decode_direct_view(payload_view, &mut view_out).map(<[u8]>::to_vec);
        if let (Ok(owned), Ok(viewed)) = (&owned, &viewed) {
            assert_eq!(owned, viewed, "owned and borrowed decoding agree");
        }
    }
    // Re-encoding never overflows a buffer of MAX_ENCODED_LEN, and decodes again.
    let mut text = vec![0u8; MessageEnvelope::MAX_ENCODED_LEN];
    let canonical = envelope
        .encode(&mut text)
        .expect("MAX_ENCODED_LEN suffices");
    let again = MessageEnvelope::decode(canonical).expect("canonical text decodes");
    let mut text_again = vec![0u8; MessageEnvelope::MAX_ENCODED_LEN];
    assert_eq!(again.encode(&mut text_again).unwrap(), canonical);
});
