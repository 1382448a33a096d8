//! Tables as Arrow record batches (cargo feature `arrow`): a batch goes out as Arrow IPC
//! streaming bytes and comes back as the same batch, through a real `nats-server`.

use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use futures_util::StreamExt;
use natsbridge::{ErrorKind, Payload, PayloadType, SendOptions};
use natsbridge_test_support::NatsServer;

fn readings() -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("sensor", DataType::Utf8, false),
        Field::new("celsius", DataType::Float64, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from(vec!["kitchen", "attic", "cellar"])),
            Arc::new(Float64Array::from(vec![Some(21.5), None, Some(12.25)])),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn a_record_batch_round_trips_as_a_table_payload() {
    let server = NatsServer::start();
    let client = natsbridge::connect(&server.url()).await.unwrap();
    let mut inbox = client.subscribe("tables").await.unwrap();
    let payload = Payload::record_batch("readings", &readings()).unwrap();
    assert_eq!(payload.payload_type(), &PayloadType::Table);
    client
        .smartsend("tables", vec![payload], &SendOptions::new())
        .await
        .unwrap();
    let received = inbox.next().await.unwrap().unwrap();
    let batches = received.payloads[0].data.record_batches().unwrap();
    assert_eq!(batches, vec![readings()]);
}

#[test]
fn bytes_that_are_not_arrow_are_refused_clearly() {
    let error = natsbridge::Data::Bytes(vec![1, 2, 3].into())
        .record_batches()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadValue);
    assert!(error.to_string().contains("Arrow IPC"), "{error}");
    let error = natsbridge::Data::Text("x".into())
        .record_batches()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
}
