//! The borrowed envelope view (`MessageEnvelopeView`, `JsonStr`, `JsonObjectView`): unescaping
//! on the fly, direct payloads far beyond the owned 2,048-byte `data` decoded into a caller
//! buffer, and a 100 KB direct payload received from a real `nats-server`.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Collect, TokioConnector, pseudo_random};
use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::json::{BufferFull, JsonError, Reader};
use natsbridge_embedded::link::AllowedHosts;
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::{
    Links, ReceiveError, decode_direct, decode_direct_view, smartreceive, smartreceive_view,
};
use natsbridge_embedded::{
    ErrorKind, JsonStr, Message, MessageEnvelope, MessageEnvelopeView, MessageView, Transport,
};
use natsbridge_test_support::NatsServer;
use tokio::net::TcpStream;

// ----- JsonStr -----

fn raw(json: &str) -> JsonStr<'_> {
    let mut reader = Reader::new(json.as_bytes());
    let text = reader.raw_string().expect("a valid string");
    reader.end().expect("one value");
    text
}

fn decoded(text: JsonStr<'_>) -> String {
    let mut buf = vec![0u8; text.len_hint()];
    let out = text
        .decode_into(&mut buf)
        .expect("len_hint always suffices");
    assert_eq!(out, text.chars().collect::<String>());
    assert_eq!(out, text.to_string(), "Display unescapes too");
    assert!(text.eq_str(out));
    out.to_owned()
}

#[test]
fn a_plain_string_is_borrowed_as_it_is() {
    let text = raw(r#""chat room é""#);
    assert_eq!(text.as_str(), Some("chat room é"));
    assert_eq!(text.raw(), "chat room é");
    assert_eq!(decoded(text), "chat room é");
    assert!(!text.eq_str("chat room e"));
    assert!(raw(r#""""#).is_empty());
}

#[test]
fn every_short_escape_is_applied() {
    let text = raw(r#""q\" b\\ s\/ \b\f\n\r\t end""#);
    assert_eq!(text.as_str(), None);
    assert_eq!(text.raw(), r#"q\" b\\ s\/ \b\f\n\r\t end"#);
    assert_eq!(decoded(text), "q\" b\\ s/ \u{8}\u{c}\n\r\t end");
    assert!(text.eq_str("q\" b\\ s/ \u{8}\u{c}\n\r\t end"));
    assert!(
        !text.eq_str("q\" b\\ s\\/ \u{8}\u{c}\n\r\t end"),
        "\\/ is only /"
    );
}

#[test]
fn unicode_escapes_and_surrogate_pairs_are_applied() {
    let text = raw(r#""\u00e9\u00E9 \u20ac \ud83d\ude00 \uD834\uDD1E \u0000""#);
    assert_eq!(decoded(text), "éé € 😀 𝄞 \u{0}");
    assert!(text.eq_str("éé € 😀 𝄞 \u{0}"));
    // The unescaped text is never longer than the raw one.
    assert!(decoded(text).len() <= text.len_hint());
}

#[test]
fn decode_into_reports_a_short_buffer() {
    let text = raw(r#""caf\u00e9""#);
    let mut buf = [0u8; 4];
    assert_eq!(
        text.decode_into(&mut buf),
        Err(BufferFull { capacity: 4 }),
        "é needs two more bytes"
    );
    let mut buf = [0u8; 5];
    assert_eq!(text.decode_into(&mut buf), Ok("café"));
}

#[test]
fn raw_string_validates_as_string_into_does() {
    for (bad, offset) in [
        (&br#""\x""#[..], 1),
        (br#""\ud83d""#, 1),
        (br#""\ud83d\u0041""#, 1),
        (br#""\ude00""#, 1),
        (b"\"a\x01\"", 2),
        (b"\"\xff\"", 1),
        (br#""open"#, 5),
    ] {
        let mut reader = Reader::new(bad);
        assert_eq!(
            reader.raw_string(),
            Err(JsonError::Syntax { offset }),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let mut reader = Reader::new(b" 12");
    assert_eq!(
        reader.raw_string(),
        Err(JsonError::WrongType {
            expected: "a string",
            offset: 1
        })
    );
    assert_eq!(reader.unsigned(), Ok(12), "a wrong type is not consumed");
}

#[test]
fn an_object_view_finds_top_level_string_keys() {
    let mut reader = Reader::new(
        br#"{ "n": {"checksum": "inner"}, "ch\u0065cksum" : "sha256:ab", "list": [1, "x"], "k": 1 }"#,
    );
    let meta = reader.raw_object().expect("an object");
    assert!(meta.raw().starts_with("{ \"n\""));
    assert!(meta.get_str("checksum").unwrap().eq_str("sha256:ab"));
    assert!(meta.get_str("k").is_none(), "not a string");
    assert!(meta.get_str("missing").is_none());
    let mut repeated = Reader::new(br#"{"a":"first","a":"last"}"#);
    let repeated = repeated.raw_object().unwrap();
    assert!(repeated.get_str("a").unwrap().eq_str("last"));
    let mut deep = Reader::new(&[b'{'; 40]);
    assert!(matches!(
        deep.raw_object(),
        Err(JsonError::Syntax { .. } | JsonError::TooDeep { .. })
    ));
}

// ----- direct payloads through the view -----

/// An envelope with one direct payload carrying `data` as base64, with `/` written as `\/`
/// (as some JSON encoders do) so that the view must unescape while decoding.
fn envelope_with(data: &[u8]) -> Vec<u8> {
    let mut base64 = vec![0u8; data.len().div_ceil(3) * 4];
    let len = STANDARD
        .encode_slice(data, &mut base64)
        .expect("room for the base64");
    let base64 = std::str::from_utf8(&base64[..len])
        .expect("base64 is ASCII")
        .replace('/', "\\/");
    format!(
        r#"{{"msg_id":"m-1","send_to":"big","payloads":[{{"id":"p-1","dataname":"blob.bin","payload_type":"binary","transport":"direct","encoding":"base64","size":{},"data":"{base64}","metadata":{{}}}}]}}"#,
        data.len()
    )
    .into_bytes()
}

/// Bytes 0, 1, ... 255, 0, ... scrambled, so every base64 character appears.
fn test_data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 256) as u8).collect()
}

#[test]
fn a_view_decodes_a_direct_payload_larger_than_the_owned_capacity() {
    let data = test_data(10_000);
    let body = envelope_with(&data);
    let owned = MessageEnvelope::decode(&body).expect_err("too large for the owned envelope");
    assert_eq!(owned.kind, ErrorKind::OverCapacity);
    assert_eq!(owned.at.to_string(), "payloads[0].data");

    let view = MessageEnvelopeView::decode(&body).expect("a view has no string capacity");
    let payload = &view.payloads[0];
    assert_eq!(payload.size, 10_000);
    assert!(payload.dataname.eq_str("blob.bin"));
    let mut buf = vec![0u8; 10_000];
    assert_eq!(decode_direct_view(payload, &mut buf).unwrap(), &data[..]);

    let mut short = vec![0u8; 9_999];
    assert_eq!(
        decode_direct_view(payload, &mut short),
        Err(ReceiveError::BufferTooSmall { needed: 10_000 })
    );
}

#[test]
fn the_view_and_owned_decoders_deliver_the_same_small_payloads() {
    for len in [0, 1, 2, 3, 191, 192, 193, 1536] {
        let data = test_data(len);
        let body = envelope_with(&data);
        let owned = MessageEnvelope::decode(&body).expect("fits the owned envelope");
        let view = MessageEnvelopeView::decode(&body).unwrap();
        let (mut a, mut b) = (vec![0u8; len], vec![0u8; len]);
        assert_eq!(
            decode_direct(&owned.payloads[0], &mut a).unwrap(),
            &data[..]
        );
        assert_eq!(
            decode_direct_view(&view.payloads[0], &mut b).unwrap(),
            &data[..]
        );
    }
}

#[test]
fn bad_base64_and_wrong_sizes_are_refused_by_the_view() {
    let decode = |data: &str, size: u64| {
        let body = format!(
            r#"{{"payloads":[{{"dataname":"d","type":"binary","transport":"direct","encoding":"base64","size":{size},"data":"{data}"}}]}}"#
        );
        let view = MessageEnvelopeView::decode(body.as_bytes()).unwrap();
        let mut buf = [0u8; 1024];
        decode_direct_view(&view.payloads[0], &mut buf).map(<[u8]>::to_vec)
    };
    assert_eq!(decode("aGk=", 2), Ok(b"hi".to_vec()));
    assert_eq!(decode("aGk", 2), Err(ReceiveError::BadBase64));
    assert_eq!(decode("a\\u00e9Gk=", 2), Err(ReceiveError::BadBase64));
    assert_eq!(
        decode("aGk=", 3),
        Err(ReceiveError::SizeMismatch {
            expected: 3,
            received: 2
        })
    );
    assert_eq!(
        decode("aGVsbG8=", 2),
        Err(ReceiveError::SizeMismatch {
            expected: 2,
            received: 5
        })
    );
    // Padding ends the data: a group after a padded one is refused, even across the
    // 256-character pieces the view decodes in.
    let padded_then_more = format!("{}aGk=aGk=", "A".repeat(248));
    assert_eq!(decode(&padded_then_more, 192), Err(ReceiveError::BadBase64));
    let text_body = br#"{"payloads":[{"dataname":"d","type":"text","transport":"direct","encoding":"none","size":6,"data":"caf\u00e9!"}]}"#;
    let view = MessageEnvelopeView::decode(text_body).unwrap();
    let mut buf = [0u8; 6];
    assert_eq!(
        decode_direct_view(&view.payloads[0], &mut buf).unwrap(),
        "café!".as_bytes()
    );
}

// ----- a 100 KB direct payload from a real nats-server -----

async fn connect<'b>(
    server: &NatsServer,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Client<'b, FromTokio<TcpStream>> {
    let stream = common::connect("127.0.0.1", server.port())
        .await
        .expect("connecting to nats-server");
    Client::connect(stream, rx, tx, &ConnectOptions::new())
        .await
        .expect("connect")
}

#[tokio::test]
async fn a_100_kb_direct_payload_from_nats_server_decodes_through_the_view() {
    const SIZE: usize = 100 * 1024;
    const BUFFER: usize = 200 * 1024;
    let server = NatsServer::start();
    let data = test_data(SIZE);
    let body = envelope_with(&data);
    assert!(
        body.len() > 130_000 && body.len() < BUFFER,
        "{}",
        body.len()
    );

    let (mut rx, mut tx) = (vec![0u8; BUFFER], vec![0u8; 512]);
    let mut receiver = connect(&server, &mut rx, &mut tx).await;
    receiver.subscribe("big", None).await.unwrap();
    // Our own message comes back once the subscription is in place on the server.
    receiver.publish("big", None, b"ready").await.unwrap();
    match receiver.next_event().await.expect("an event") {
        Event::Message(m) => assert_eq!(m.payload, b"ready"),
        other => panic!("expected our marker, got {other:?}"),
    }

    let (mut prx, mut ptx) = (vec![0u8; 1024], vec![0u8; BUFFER]);
    let mut publisher = connect(&server, &mut prx, &mut ptx).await;
    publisher.publish("big", None, &body).await.unwrap();

    let message = match receiver.next_event().await.expect("an event") {
        Event::Message(m) => m,
        other => panic!("expected the envelope, got {other:?}"),
    };
    assert_eq!(message.payload.len(), body.len());
    // The view borrows the receive buffer: it lives as long as `message`.
    let envelope = MessageEnvelopeView::decode(message.payload).expect("decodes");
    assert!(envelope.msg_id.eq_str("m-1"));
    let payload = &envelope.payloads[0];
    assert_eq!(payload.transport, Transport::Direct);
    let mut out = vec![0u8; SIZE];
    let decoded = decode_direct_view(payload, &mut out).expect("decodes into the caller buffer");
    assert!(decoded == &data[..], "the 100 KB payload differs");

    // smartreceive for views streams the same bytes into a sink.
    let mut work = [0u8; 512];
    let mut links = Links {
        connector: TokioConnector,
        work: &mut work,
        backoff: Backoff::default(),
        delay: async |_: u32| {},
        random: pseudo_random(),
        allowed_hosts: AllowedHosts::Only(&["127.0.0.1"]),
        max_size: 64 << 20,
    };
    let mut sink = Collect::default();
    let size = smartreceive_view(payload, &mut sink, &mut links)
        .await
        .expect("delivers");
    assert_eq!(size, SIZE as u64);
    assert!(
        sink.bytes == data,
        "smartreceive_view delivered other bytes"
    );
    assert!(sink.largest_piece <= 192);

    // The owned envelope cannot hold it, and says where.
    let owned = MessageEnvelope::decode(message.payload).expect_err("over capacity");
    assert_eq!(owned.at.to_string(), "payloads[0].data");
}

#[tokio::test]
async fn smartreceive_of_an_owned_payload_still_delivers() {
    let data = test_data(1000);
    let envelope = MessageEnvelope::decode(&envelope_with(&data)).unwrap();
    let mut work = [0u8; 512];
    let mut links = Links {
        connector: TokioConnector,
        work: &mut work,
        backoff: Backoff::default(),
        delay: async |_: u32| {},
        random: pseudo_random(),
        allowed_hosts: AllowedHosts::Only(&["127.0.0.1"]),
        max_size: 64 << 20,
    };
    let mut sink = Collect::default();
    let size = smartreceive(&envelope.payloads[0], &mut sink, &mut links)
        .await
        .unwrap();
    assert_eq!((size, sink.bytes), (1000, data));
}

#[test]
fn a_view_is_a_small_fraction_of_the_owned_envelope() {
    let view = std::mem::size_of::<MessageEnvelopeView<'static>>();
    let owned = std::mem::size_of::<MessageEnvelope>();
    println!("MessageEnvelopeView: {view} bytes; MessageEnvelope: {owned} bytes (this target)");
    assert!(view * 8 < owned, "view {view} bytes, owned {owned} bytes");
}
