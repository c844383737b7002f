use super::*;
use proptest::prelude::*;

fn r(first: u64, last: u64) -> ByteRange {
    ByteRange { first, last }
}

#[test]
fn range_headers_read_as_the_rfc_says() {
    let cases: &[(&str, u64, RangeSet)] = &[
        ("bytes=0-499", 1000, RangeSet::Partial(vec![r(0, 499)])),
        ("bytes=500-", 1000, RangeSet::Partial(vec![r(500, 999)])),
        ("bytes=-200", 1000, RangeSet::Partial(vec![r(800, 999)])),
        ("bytes=-5000", 1000, RangeSet::Partial(vec![r(0, 999)])),
        ("bytes=900-5000", 1000, RangeSet::Partial(vec![r(900, 999)])),
        ("BYTES=0-0", 1000, RangeSet::Partial(vec![r(0, 0)])),
        (
            "bytes= 0-1 , 5-6",
            1000,
            RangeSet::Partial(vec![r(0, 1), r(5, 6)]),
        ),
        (
            "bytes=5-6,0-1",
            1000,
            RangeSet::Partial(vec![r(0, 1), r(5, 6)]),
        ),
        ("bytes=0-10,5-20", 1000, RangeSet::Partial(vec![r(0, 20)])),
        ("bytes=0-9,10-19", 1000, RangeSet::Partial(vec![r(0, 19)])),
        (
            "bytes=0-1,,4-5,",
            1000,
            RangeSet::Partial(vec![r(0, 1), r(4, 5)]),
        ),
        ("bytes=1000-", 1000, RangeSet::Unsatisfiable),
        ("bytes=1000-2000,3000-", 1000, RangeSet::Unsatisfiable),
        (
            "bytes=1000-2000,0-0",
            1000,
            RangeSet::Partial(vec![r(0, 0)]),
        ),
        ("bytes=-0", 1000, RangeSet::Unsatisfiable),
        ("bytes=0-", 0, RangeSet::Unsatisfiable),
        ("bytes=-10", 0, RangeSet::Unsatisfiable),
        (
            "bytes=99999999999999999999999-",
            10,
            RangeSet::Unsatisfiable,
        ),
        (
            "bytes=0-99999999999999999999999",
            10,
            RangeSet::Partial(vec![r(0, 9)]),
        ),
        // Ignored, so the whole representation is sent.
        ("items=0-1", 1000, RangeSet::Full),
        ("bytes=5-1", 1000, RangeSet::Full),
        ("bytes=a-b", 1000, RangeSet::Full),
        ("bytes=-", 1000, RangeSet::Full),
        ("bytes=+1-2", 1000, RangeSet::Full),
        ("bytes=0-1;x", 1000, RangeSet::Full),
        ("bytes=", 1000, RangeSet::Full),
        ("bytes", 1000, RangeSet::Full),
        ("", 1000, RangeSet::Full),
        ("bytes=0-1,junk", 1000, RangeSet::Full),
    ];
    for (header, len, want) in cases {
        assert_eq!(
            &parse_range(header, *len),
            want,
            "Range: {header:?} of {len}"
        );
    }
}

#[test]
fn too_many_ranges_are_ignored() {
    let many: Vec<String> = (0..=MAX_RANGES)
        .map(|i| format!("{}-{}", i * 10, i * 10))
        .collect();
    assert_eq!(
        parse_range(&format!("bytes={}", many.join(",")), 10_000),
        RangeSet::Full
    );
    let allowed = &many[..MAX_RANGES];
    assert!(matches!(
        parse_range(&format!("bytes={}", allowed.join(",")), 10_000),
        RangeSet::Partial(v) if v.len() == MAX_RANGES
    ));
}

const MODIFIED: u64 = 1_700_000_000;

fn validators() -> Validators {
    Validators {
        etag: "abc".into(),
        last_modified: UNIX_EPOCH + Duration::from_millis(MODIFIED * 1000 + 750),
    }
}

fn date(secs: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

#[test]
fn preconditions_follow_rfc_9110_order() {
    let before = date(MODIFIED - 1);
    let exact = date(MODIFIED);
    let after = date(MODIFIED + 1);
    use Decision::*;
    use Method::*;
    let cases: Vec<(Method, Conditions, Decision)> = vec![
        (Get, Conditions::default(), Full),
        (
            Get,
            Conditions {
                if_match: Some("\"abc\""),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                if_match: Some("\"x\", \"abc\""),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                if_match: Some("*"),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                if_match: Some("W/\"abc\""),
                ..Default::default()
            },
            PreconditionFailed,
        ),
        (
            Get,
            Conditions {
                if_match: Some("\"nope\""),
                ..Default::default()
            },
            PreconditionFailed,
        ),
        (
            Get,
            Conditions {
                if_match: Some("garbage"),
                ..Default::default()
            },
            PreconditionFailed,
        ),
        (
            Get,
            Conditions {
                if_unmodified_since: Some(&before),
                ..Default::default()
            },
            PreconditionFailed,
        ),
        (
            Get,
            Conditions {
                if_unmodified_since: Some(&exact),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                if_unmodified_since: Some("not a date"),
                ..Default::default()
            },
            Full,
        ),
        // If-Match wins over If-Unmodified-Since.
        (
            Get,
            Conditions {
                if_match: Some("\"abc\""),
                if_unmodified_since: Some(&before),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                if_none_match: Some("\"abc\""),
                ..Default::default()
            },
            NotModified,
        ),
        (
            Head,
            Conditions {
                if_none_match: Some("W/\"abc\""),
                ..Default::default()
            },
            NotModified,
        ),
        (
            Get,
            Conditions {
                if_none_match: Some("*"),
                ..Default::default()
            },
            NotModified,
        ),
        (
            Other,
            Conditions {
                if_none_match: Some("\"abc\""),
                ..Default::default()
            },
            PreconditionFailed,
        ),
        (
            Get,
            Conditions {
                if_none_match: Some("\"other\""),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                if_modified_since: Some(&exact),
                ..Default::default()
            },
            NotModified,
        ),
        (
            Get,
            Conditions {
                if_modified_since: Some(&after),
                ..Default::default()
            },
            NotModified,
        ),
        (
            Get,
            Conditions {
                if_modified_since: Some(&before),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                if_modified_since: Some("yesterday"),
                ..Default::default()
            },
            Full,
        ),
        (
            Other,
            Conditions {
                if_modified_since: Some(&after),
                ..Default::default()
            },
            Full,
        ),
        // If-None-Match wins over If-Modified-Since.
        (
            Get,
            Conditions {
                if_none_match: Some("\"other\""),
                if_modified_since: Some(&after),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                range: Some("bytes=0-1"),
                ..Default::default()
            },
            Partial(vec![r(0, 1)]),
        ),
        (
            Head,
            Conditions {
                range: Some("bytes=0-1"),
                ..Default::default()
            },
            Full,
        ),
        (
            Other,
            Conditions {
                range: Some("bytes=0-1"),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                range: Some("bytes=10-"),
                ..Default::default()
            },
            RangeNotSatisfiable,
        ),
        (
            Get,
            Conditions {
                range: Some("bytes=0-1"),
                if_range: Some("\"abc\""),
                ..Default::default()
            },
            Partial(vec![r(0, 1)]),
        ),
        (
            Get,
            Conditions {
                range: Some("bytes=0-1"),
                if_range: Some("\"old\""),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                range: Some("bytes=0-1"),
                if_range: Some("W/\"abc\""),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                range: Some("bytes=0-1"),
                if_range: Some(&exact),
                ..Default::default()
            },
            Partial(vec![r(0, 1)]),
        ),
        (
            Get,
            Conditions {
                range: Some("bytes=0-1"),
                if_range: Some(&after),
                ..Default::default()
            },
            Full,
        ),
        (
            Get,
            Conditions {
                range: Some("bytes=0-1"),
                if_range: Some("junk"),
                ..Default::default()
            },
            Full,
        ),
        // A failed If-Range also means no 416: the whole representation is sent.
        (
            Get,
            Conditions {
                range: Some("bytes=99-"),
                if_range: Some("\"old\""),
                ..Default::default()
            },
            Full,
        ),
    ];
    for (method, conditions, want) in cases {
        assert_eq!(
            decide(method, &conditions, &validators(), 10),
            want,
            "{method:?} {conditions:?}"
        );
    }
}

#[test]
fn multipart_plan_counts_every_byte() {
    let plan = MultipartPlan::new("B", "video/mp4", &[r(0, 1), r(5, 9)], 10);
    let mut body = Vec::new();
    for (head, range) in &plan.parts {
        body.extend_from_slice(head.as_bytes());
        body.extend(std::iter::repeat_n(b'x', range.len() as usize));
    }
    body.extend_from_slice(plan.close.as_bytes());
    assert_eq!(body.len() as u64, plan.content_length());
    let text = String::from_utf8(body).unwrap_or_default();
    assert!(text.starts_with(
        "--B\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-1/10\r\n\r\nxx\r\n--B\r\n"
    ));
    assert!(text.ends_with("xxxxx\r\n--B--\r\n"));
}

fn spec_strategy(len: u64) -> impl Strategy<Value = String> {
    let bound = len * 2 + 2;
    prop_oneof![
        (0..bound, 0..bound).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        (0..bound).prop_map(|a| format!("{a}-")),
        (0..bound).prop_map(|n| format!("-{n}")),
    ]
}

proptest! {
    /// Whatever ranges are asked for, the parts sent are exactly the slices of the file they
    /// claim to be, sorted, disjoint, and cover every satisfiable byte that was asked for.
    #[test]
    fn satisfiable_ranges_reassemble_the_file(
        file in proptest::collection::vec(any::<u8>(), 1..300),
        specs in proptest::collection::vec(spec_strategy(300), 1..8),
    ) {
        let len = file.len() as u64;
        let header = format!("bytes={}", specs.join(","));
        let mut wanted = vec![false; file.len()];
        for spec in &specs {
            if let Some(range) = parse_spec(spec).and_then(|s| satisfy(&s, len)) {
                for i in range.first..=range.last { wanted[i as usize] = true; }
            }
        }
        match parse_range(&header, len) {
            RangeSet::Partial(ranges) => {
                let mut rebuilt: Vec<Option<u8>> = vec![None; file.len()];
                for pair in ranges.windows(2) {
                    prop_assert!(pair[0].last + 1 < pair[1].first, "sorted and not touching");
                }
                for range in &ranges {
                    prop_assert!(range.last < len);
                    let slice = &file[range.first as usize..=range.last as usize];
                    for (offset, byte) in slice.iter().enumerate() {
                        rebuilt[range.first as usize + offset] = Some(*byte);
                    }
                }
                for (i, byte) in rebuilt.iter().enumerate() {
                    prop_assert_eq!(byte.is_some(), wanted[i], "byte {} coverage", i);
                    if let Some(b) = byte { prop_assert_eq!(*b, file[i]); }
                }
            }
            RangeSet::Unsatisfiable => prop_assert!(wanted.iter().all(|w| !w)),
            RangeSet::Full => prop_assert!(false, "well-formed ranges were ignored: {}", header),
        }
    }

    #[test]
    fn any_header_text_is_answered_without_panicking(header in ".{0,40}", len in 0u64..1000) {
        if let RangeSet::Partial(ranges) = parse_range(&header, len) {
            prop_assert!(ranges.iter().all(|r| r.first <= r.last && r.last < len));
        }
    }
}
