//! Authentication and TLS against `nats-server`s that require them: NKey users, a
//! credentials file (operator, account and user JWTs minted here with `nkeys`), and TLS with
//! a test CA made by `rcgen`; a client that does not trust the CA fails clearly.
//! (User/password and token are in `client.rs`.)

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use natsbridge::{Client, ConnectOptions, ErrorKind, Payload, SendOptions};
use natsbridge_test_support::NatsServer;
use nkeys::KeyPair;

async fn assert_round_trip(client: &Client) {
    let mut inbox = client.subscribe("secure.room").await.unwrap();
    client
        .smartsend(
            "secure.room",
            vec![Payload::text("t", "over an authenticated link")],
            &SendOptions::new(),
        )
        .await
        .unwrap();
    let received = tokio::time::timeout(std::time::Duration::from_secs(30), inbox.next())
        .await
        .expect("a message within 30 s")
        .unwrap()
        .unwrap();
    assert_eq!(
        received.payloads[0].data.as_text(),
        Some("over an authenticated link")
    );
}

#[tokio::test]
async fn nkey_users_authenticate_with_their_seed_and_others_are_refused() {
    let user = KeyPair::new_user();
    let server = NatsServer::builder()
        .jetstream(false)
        .extra_config(&format!(
            "authorization {{ users: [ {{ nkey: {:?} }} ] }}",
            user.public_key()
        ))
        .start();
    let client = ConnectOptions::new()
        .nkey(&user.seed().unwrap())
        .connect(&server.url())
        .await
        .unwrap();
    assert_round_trip(&client).await;
    let stranger = KeyPair::new_user();
    let error = ConnectOptions::new()
        .nkey(&stranger.seed().unwrap())
        .connect(&server.url())
        .await
        .err()
        .expect("an unknown NKey is refused");
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::Connect, server.url().as_str())
    );
    // The cause is async-nats's error, the source; the chain prints it.
    let cause = std::error::Error::source(&error).expect("the async-nats error as the source");
    assert!(
        cause.to_string().to_lowercase().contains("authorization"),
        "{}",
        error.display_chain()
    );
}

/// A JWT of NATS' decentralized auth: `claims` (with `nats.type`) signed by `issuer`.
fn jwt(issuer: &KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let claims = serde_json::json!({
        "jti": format!("{name}-{now}"),
        "iat": now,
        "iss": issuer.public_key(),
        "sub": subject,
        "name": name,
        "nats": nats,
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{claims}");
    let signature = URL_SAFE_NO_PAD.encode(issuer.sign(signed.as_bytes()).unwrap());
    format!("{signed}.{signature}")
}

fn write_creds(path: &Path, user_jwt: &str, user: &KeyPair) {
    let text = format!(
        "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
         -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
        user.seed().unwrap()
    );
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn a_credentials_file_authenticates_against_an_operator_setup() {
    let (operator, account, user) = (
        KeyPair::new_operator(),
        KeyPair::new_account(),
        KeyPair::new_user(),
    );
    let unlimited = serde_json::json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
        "wildcards": true, "conn": -1, "leaf": -1,
    });
    let operator_jwt = jwt(
        &operator,
        &operator.public_key(),
        "test-operator",
        serde_json::json!({"type": "operator", "version": 2}),
    );
    let account_jwt = jwt(
        &operator,
        &account.public_key(),
        "test-account",
        serde_json::json!({"limits": unlimited, "type": "account", "version": 2}),
    );
    let user_jwt = jwt(
        &account,
        &user.public_key(),
        "test-user",
        serde_json::json!({"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
                           "type": "user", "version": 2}),
    );
    let server = NatsServer::builder()
        .jetstream(false)
        .extra_config(&format!(
            "operator: {operator_jwt:?}\nresolver: MEMORY\nresolver_preload: {{ {}: {account_jwt:?} }}",
            account.public_key()
        ))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("user.creds");
    write_creds(&creds, &user_jwt, &user);
    let client = ConnectOptions::new()
        .credentials_file(&creds)
        .connect(&server.url())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_round_trip(&client).await;

    assert!(
        ConnectOptions::new().connect(&server.url()).await.is_err(),
        "no credentials, no connection"
    );
    let error = ConnectOptions::new()
        .credentials_file(dir.path().join("missing.creds"))
        .connect(&server.url())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::Connect);
    assert!(error.message().contains("missing.creds"), "{error}");
}

/// A CA and a server certificate for 127.0.0.1 signed by it, as PEM files in `dir`;
/// returns the CA's path.
fn make_certificates(dir: &Path) -> std::path::PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair as CertKey};
    let ca_key = CertKey::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = CertKey::generate().unwrap();
    let server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca, &ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server_cert.pem()).unwrap();
    std::fs::write(dir.join("server-key.pem"), server_key.serialize_pem()).unwrap();
    dir.join("ca.pem")
}

#[tokio::test]
async fn tls_with_a_trusted_ca_works_and_an_untrusted_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = make_certificates(dir.path());
    let server = NatsServer::builder()
        .jetstream(false)
        .extra_config(&format!(
            "tls {{ cert_file: {:?}, key_file: {:?} }}",
            dir.path().join("server.pem").display().to_string(),
            dir.path().join("server-key.pem").display().to_string()
        ))
        .start();
    let url = format!("tls://127.0.0.1:{}", server.port());
    let client = ConnectOptions::new()
        .require_tls(true)
        .root_certificates(&ca)
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_round_trip(&client).await;

    let error = ConnectOptions::new()
        .require_tls(true)
        .connection_timeout(std::time::Duration::from_secs(10))
        .connect(&url)
        .await
        .err()
        .expect("a client that does not trust the CA is refused");
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::Connect, url.as_str())
    );
    let chain = error.display_chain().to_lowercase();
    assert!(
        chain.contains("certificate") || chain.contains("tls"),
        "the error says it is about TLS: {chain}"
    );
}
