//! The fixtures start real servers that answer as their protocols say, and stop them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use natsbridge_test_support::{NatsServer, Nginx};

fn info_line(port: u16) -> String {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to nats-server");
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .expect("reading INFO");
    line
}

#[test]
fn nats_server_advertises_the_configured_max_payload_and_restarts_on_its_port() {
    let mut server = NatsServer::builder().max_payload(8 * 1024 * 1024).start();
    let info = info_line(server.port());
    assert!(info.starts_with("INFO {"), "{info}");
    assert!(info.contains("\"max_payload\":8388608"), "{info}");
    assert!(info.contains("\"jetstream\":true"), "{info}");

    server.stop();
    assert!(TcpStream::connect(("127.0.0.1", server.port())).is_err());
    server.restart();
    assert!(info_line(server.port()).starts_with("INFO {"));
}

#[test]
fn nats_server_with_a_token_asks_for_auth() {
    let server = NatsServer::builder().token("s3cret").start();
    assert!(info_line(server.port()).contains("\"auth_required\":true"));
}

fn http(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to nginx");
    stream.write_all(request).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn nginx_accepts_a_put_and_serves_it_back() {
    let nginx = Nginx::start();
    let port: u16 = nginx.url().rsplit(':').next().unwrap().parse().unwrap();
    let put = http(
        port,
        b"PUT /a/b/hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert!(put.starts_with("HTTP/1.1 201"), "{put}");
    assert_eq!(
        std::fs::read(nginx.root().join("a/b/hello.txt")).unwrap(),
        b"hello"
    );
    let get = http(
        port,
        b"GET /a/b/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        get.starts_with("HTTP/1.1 200") && get.ends_with("\r\n\r\nhello"),
        "{get}"
    );
}
