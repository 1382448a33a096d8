//! Request and response: a service answers with the `reply_to_msg_id` of the request and the
//! same correlation id; the requester waits for exactly that answer.
//!
//! Run `nats-server`, then: `cargo run -p natsbridge --example request_reply`.

use std::time::Duration;

use futures_util::StreamExt;
use natsbridge::{Payload, SendOptions};

#[tokio::main]
async fn main() -> Result<(), natsbridge::Error> {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://localhost:4222".into());

    // The service: answers every request on `service.temperature`.
    let service = natsbridge::connect(&url).await?;
    let mut requests = service.subscribe("service.temperature").await?;
    tokio::spawn(async move {
        while let Some(Ok(request)) = requests.next().await {
            let city = request
                .payload("city")
                .and_then(|p| p.data.as_text())
                .unwrap_or("nowhere")
                .to_owned();
            let answer = serde_json::json!({"city": city, "celsius": 21.5});
            let reply = vec![Payload::dictionary("reading", &answer).expect("a JSON object")];
            if let Err(error) = service
                .reply(&request, reply, &SendOptions::new().msg_purpose("ACK"))
                .await
            {
                eprintln!("cannot reply: {error}");
            }
        }
    });

    // The requester.
    let client = natsbridge::connect(&url).await?;
    let options = SendOptions::new().sender_name("thermostat");
    let question = vec![Payload::text("city", "Lisbon")];
    let reply = client
        .request(
            "service.temperature",
            question,
            &options,
            Duration::from_secs(5),
        )
        .await?;
    let reading = reply
        .payload("reading")
        .and_then(|p| p.data.as_json())
        .expect("a reading");
    println!(
        "reply {} to {} (correlation {}): {reading}",
        reply.envelope.msg_id, reply.envelope.reply_to_msg_id, reply.envelope.correlation_id
    );
    Ok(())
}
