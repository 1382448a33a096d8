//! Fuzzes the file server's request-path checks (every name that reaches the disk passes
//! them): any text as a request path, and every name `link_file_name` makes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natsbridge::file_server::check_request_path;
use natsbridge::link::{encode_path_segment, link_file_name};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(checked) = check_request_path(&text) {
        // What was accepted is accepted again as itself, and names nothing hidden or outside.
        assert_eq!(
            check_request_path(&checked).as_deref(),
            Ok(checked.as_str())
        );
        assert!(
            !checked.contains("/.") && !checked.contains("//"),
            "{checked:?}"
        );
        assert!(
            !checked.chars().any(|c| c.is_control() || c == '\\'),
            "{checked:?}"
        );
    }
    // Whatever a sender's dataname is, the server stores the name the SDK makes of it.
    let name = link_file_name(&text);
    if name.len() <= 255 {
        let path = format!("/{}", encode_path_segment(&name));
        if let Err(e) = check_request_path(&path) {
            panic!("link_file_name({text:?}) = {name:?} is refused by the server: {e}");
        }
    }
});
