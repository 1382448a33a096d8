//! The misbehaving file server of `natsbridge_test_support::FaultyHttp` as a program, for
//! test suites in other languages: `faulty-http --dir DIR [--down-ms N] [--drip-ms N]`.

use std::path::PathBuf;
use std::time::Duration;

use natsbridge_test_support::{FaultTimes, FaultyHttp};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut times = FaultTimes::default();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        let millis = |text: String| {
            Duration::from_millis(text.parse().unwrap_or_else(|_| usage("not milliseconds")))
        };
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value())),
            "--down-ms" => times.down_for = millis(value()),
            "--drip-ms" => times.drip_every = millis(value()),
            _ => usage(&format!("unknown argument {flag}")),
        }
    }
    let dir = dir.unwrap_or_else(|| usage("--dir is required"));
    let server = FaultyHttp::serve(dir, times, 0);
    println!("listening on {}", server.url());
    server.wait();
}

fn usage(problem: &str) -> ! {
    eprintln!("faulty-http: {problem}\nusage: faulty-http --dir DIR [--down-ms N] [--drip-ms N]");
    std::process::exit(2)
}
