//! Fuzzes the std SDK's link URL handling without a network: any text as a URL and as an
//! allow-list entry through `LinkPolicy`, `parse_link_host`, `link_file_name` and the path
//! segment codec.
#![no_main]

use libfuzzer_sys::fuzz_target;
use natsbridge::ErrorKind;
use natsbridge::link::{
    LinkPolicy, decode_path_segment, encode_path_segment, link_file_name, parse_link_host,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (entry, url) = text.split_once('\n').unwrap_or(("127.0.0.1:8080", &text));

    // The default policy fetches nothing; every refusal names the URL.
    let refused = LinkPolicy::new()
        .check_url(url)
        .expect_err("the default policy allows no link");
    assert_eq!(
        (refused.kind(), refused.at()),
        (ErrorKind::LinkRefused, url)
    );

    // Allowing a URL's own host and port allows that URL (http and https only).
    if let Ok(parsed) = url::Url::parse(url)
        && matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some()
    {
        let own = LinkPolicy::new().allow_host_of(url);
        assert!(
            own.check_url(url).is_ok(),
            "allow_host_of({url:?}) refuses it"
        );
    }
    let policy = LinkPolicy::new().allow_host(entry).allow_bucket(entry);
    if let Err(error) = policy.check_url(url) {
        assert_eq!((error.kind(), error.at()), (ErrorKind::LinkRefused, url));
    }
    if let Ok((host, _port)) = parse_link_host(entry) {
        assert!(
            !host.is_empty() && host == host.to_ascii_lowercase(),
            "{entry:?}"
        );
    }

    // Names for file servers and listen folders are one plain name on every platform.
    let name = link_file_name(url);
    assert!(!name.is_empty() && !name.starts_with('.'), "{name:?}");
    assert!(
        !name
            .chars()
            .any(|c| c.is_control() || "/\\:<>\"|?*".contains(c)),
        "{name:?}"
    );
    assert!(!name.ends_with([' ', '.']), "{name:?}");
    let encoded = encode_path_segment(&name);
    assert_eq!(
        decode_path_segment(&encoded).as_deref(),
        Some(name.as_str())
    );
});
