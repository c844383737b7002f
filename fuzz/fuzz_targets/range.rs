//! `Range` header parsing: whatever the header, every range it yields lies inside the
//! representation and in order, and the parser never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use yuanjiao::domain::range::{parse_range, RangeSet};

fuzz_target!(|data: &[u8]| {
    // The first 8 bytes pick the representation's length, the rest is the header.
    let (len, header) = match data.split_first_chunk::<8>() {
        Some((len, rest)) => (u64::from_le_bytes(*len), rest),
        None => (1000, data),
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    if let RangeSet::Partial(ranges) = parse_range(header, len) {
        assert!(!ranges.is_empty());
        for r in &ranges {
            assert!(r.first <= r.last && r.last < len, "{r:?} outside {len}");
            let _ = r.content_range(len);
        }
    }
});
