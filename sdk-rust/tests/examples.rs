//! The examples of `sdk-rust/examples/` run as programs against a real `nats-server` (and
//! `natsbridge serve-files` for the link example), so they stay correct.

use std::path::PathBuf;
use std::process::Command;

use natsbridge_test_support::{NatsServer, ServeFiles};

/// Builds an example with the cargo running these tests, and returns where it put it.
fn example(name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "--quiet", "-p", "natsbridge", "--example", name])
        .status()
        .expect("running cargo build --example");
    assert!(built.success(), "cargo build --example {name} failed");
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let path = deps.parent().unwrap().join("examples").join(name);
    assert!(
        path.is_file(),
        "example {name} not built at {}",
        path.display()
    );
    path
}

fn run(name: &str, envs: &[(&str, String)]) -> String {
    let output = Command::new(example(name))
        .envs(envs.iter().cloned())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{name} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn chat_sends_and_receives_a_text_and_an_image() {
    let server = NatsServer::start();
    let out = run("chat", &[("NATS_URL", server.url())]);
    assert!(
        out.contains("message: Look at my cat!") && out.contains("cat.png: 82 bytes of image"),
        "{out}"
    );
}

#[test]
fn large_file_goes_as_a_link_and_streams_to_disk() {
    let server = NatsServer::start();
    let files = ServeFiles::start();
    let out = run(
        "large_file",
        &[("NATS_URL", server.url()), ("FILESERVER_URL", files.url())],
    );
    assert!(
        out.contains("sent 20000000 bytes as a link payload")
            && out.contains("received 20000000 bytes"),
        "{out}"
    );
}

#[test]
fn request_reply_gets_the_matching_answer() {
    let server = NatsServer::start();
    let out = run("request_reply", &[("NATS_URL", server.url())]);
    assert!(out.contains(r#"{"celsius":21.5,"city":"Lisbon"}"#), "{out}");
}
