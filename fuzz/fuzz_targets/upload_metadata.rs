//! The tus headers a client sends: `Upload-Metadata`, `Upload-Checksum` and the numeric ones.
//! Metadata that parses holds only keys tus allows.
#![no_main]
use libfuzzer_sys::fuzz_target;
use yuanjiao::domain::upload::{parse_checksum, parse_metadata, parse_number};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(pairs) = parse_metadata(value) {
        for key in pairs.keys() {
            assert!(!key.is_empty() && !key.contains([' ', ',']), "key {key:?}");
        }
    }
    let _ = parse_checksum(value);
    let _ = parse_number("Upload-Offset", value);
});
