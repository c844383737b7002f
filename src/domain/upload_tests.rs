use super::*;

fn upload(length: Option<u64>, offset: u64) -> Upload {
    Upload {
        id: "u1".into(),
        owner: "editor".into(),
        length,
        offset,
        metadata: BTreeMap::new(),
        created_ms: 0,
        expires_ms: 1_000,
        state: UploadState::Receiving,
        attach: None,
        verify_attempts: 0,
    }
}

#[test]
fn metadata_is_base64_pairs_and_keys_are_unique() {
    let m = parse_metadata("filename 6K++Lm1wNA==,lesson cGItMDE=,is_confidential").unwrap();
    assert_eq!(m["filename"], "课.mp4");
    assert_eq!(m["lesson"], "pb-01");
    assert_eq!(m["is_confidential"], "");
    assert!(parse_metadata("a YQ==,a Yg==").is_err());
    assert!(parse_metadata("a !!!").is_err());
    assert!(parse_metadata("a /w==").is_err(), "not UTF-8");
    assert_eq!(parse_metadata("").unwrap().len(), 0);
}

#[test]
fn checksums_name_a_known_algorithm_and_a_digest_of_its_size() {
    let sha1 = base64::engine::general_purpose::STANDARD.encode([7u8; 20]);
    assert_eq!(
        parse_checksum(&format!("sha1 {sha1}")).unwrap(),
        (Algorithm::Sha1, vec![7u8; 20])
    );
    assert!(parse_checksum(&format!("md5 {sha1}")).is_err());
    assert!(
        parse_checksum(&format!("sha256 {sha1}")).is_err(),
        "wrong size"
    );
    assert!(parse_checksum("sha1").is_err());
}

#[test]
fn creation_needs_a_length_or_a_deferral_within_the_limit() {
    assert_eq!(creation_length(Some(10), false, 100), Ok(Some(10)));
    assert_eq!(creation_length(None, true, 100), Ok(None));
    assert_eq!(
        creation_length(None, false, 100),
        Err(UploadError::LengthMissing)
    );
    assert_eq!(
        creation_length(Some(1), true, 100),
        Err(UploadError::LengthMissing)
    );
    assert_eq!(
        creation_length(Some(101), false, 100),
        Err(UploadError::TooLarge {
            length: 101,
            max: 100
        })
    );
    assert_eq!(parse_number("Upload-Length", "12"), Ok(12));
    assert!(parse_number("Upload-Length", "-1").is_err());
    assert!(parse_number("Upload-Length", "1e3").is_err());
}

#[test]
fn a_patch_must_match_the_offset_type_length_and_time() {
    let u = upload(Some(100), 40);
    assert_eq!(u.check_patch(0, true, 40, None, Some(60), 1000), Ok(None));
    assert_eq!(
        u.check_patch(0, true, 30, None, Some(10), 1000),
        Err(UploadError::OffsetMismatch {
            expected: 40,
            got: 30
        })
    );
    assert_eq!(
        u.check_patch(0, false, 40, None, None, 1000),
        Err(UploadError::WrongContentType)
    );
    assert_eq!(
        u.check_patch(0, true, 40, None, Some(61), 1000),
        Err(UploadError::PastLength(100))
    );
    assert_eq!(
        u.check_patch(0, true, 40, Some(90), None, 1000),
        Err(UploadError::LengthFixed(100))
    );
    assert_eq!(
        u.check_patch(1_000, true, 40, None, None, 1000),
        Err(UploadError::Expired)
    );
    let mut done = upload(Some(100), 100);
    done.state = UploadState::Stored { sha256: "x".into() };
    assert_eq!(
        done.check_patch(0, true, 100, None, Some(1), 1000),
        Err(UploadError::Complete)
    );
}

#[test]
fn a_deferred_length_is_settled_by_a_patch_once() {
    let u = upload(None, 40);
    assert_eq!(
        u.check_patch(0, true, 40, Some(80), Some(40), 1000),
        Ok(Some(80))
    );
    assert_eq!(
        u.check_patch(0, true, 40, Some(30), None, 1000),
        Err(UploadError::PastLength(30))
    );
    assert_eq!(
        u.check_patch(0, true, 40, Some(2000), None, 1000),
        Err(UploadError::TooLarge {
            length: 2000,
            max: 1000
        })
    );
    assert_eq!(u.room(1000), 960);
}

fn kinds() -> Vec<String> {
    UPLOAD_KINDS.iter().map(|k| k.to_string()).collect()
}

#[test]
fn a_declared_type_is_parsed_and_matched_exactly_and_never_kept() {
    let allowed = kinds();
    for (declared, want) in [
        ("video/mp4", BlobType::Probed),
        ("video/quicktime", BlobType::Probed),
        ("Audio/MPEG", BlobType::Probed),
        ("video/mp4; codecs=\"avc1.42E01E\"", BlobType::Probed),
        ("text/plain", BlobType::Fixed("text/plain; charset=utf-8")),
        (
            "text/plain; charset=UTF-8",
            BlobType::Fixed("text/plain; charset=utf-8"),
        ),
        (
            "text/markdown;charset=us-ascii",
            BlobType::Fixed("text/markdown; charset=utf-8"),
        ),
        ("application/pdf", BlobType::Fixed("application/pdf")),
    ] {
        assert_eq!(blob_type(declared, &allowed), Ok(want), "{declared}");
    }
    let refused = |declared: &str| blob_type(declared, &allowed).unwrap_err();
    assert!(matches!(
        refused("text/plain,text/html"),
        UploadError::MalformedType(_)
    ));
    assert!(matches!(
        refused("text/plain text/html"),
        UploadError::MalformedType(_)
    ));
    assert!(matches!(
        refused("text/plain\r\nx: y"),
        UploadError::MalformedType(_)
    ));
    assert!(matches!(
        refused("text/plainx"),
        UploadError::TypeNotAllowed(_)
    ));
    assert!(matches!(
        refused("text/html"),
        UploadError::TypeNotAllowed(_)
    ));
    assert!(matches!(
        refused("image/svg+xml"),
        UploadError::TypeNotAllowed(_)
    ));
    assert!(matches!(
        refused("application/pdf+html"),
        UploadError::TypeNotAllowed(_)
    ));
    assert!(matches!(
        refused("text/plain; charset=utf-7"),
        UploadError::NotUtf8(_)
    ));
    assert!(matches!(
        refused("text/plain; profile=html"),
        UploadError::TypeParameter { .. }
    ));
    assert!(matches!(
        refused("application/pdf; x=1"),
        UploadError::TypeParameter { .. }
    ));
    // The configuration narrows the kinds further.
    let video_only = vec!["video/".to_string()];
    assert_eq!(blob_type("video/webm", &video_only), Ok(BlobType::Probed));
    assert!(matches!(
        blob_type("audio/mpeg", &video_only),
        Err(UploadError::TypeNotAllowed(_))
    ));
    assert!(matches!(
        blob_type("text/plain", &video_only),
        Err(UploadError::TypeNotAllowed(_))
    ));
}

#[test]
fn an_upload_is_its_creators_and_an_admin_may_see_or_end_it_but_not_write_into_it() {
    let mut u = upload(Some(10), 0);
    u.owner = "editor:aaaa".into();
    for what in [UploadUse::See, UploadUse::Append, UploadUse::End] {
        assert_eq!(u.access("editor:aaaa", false, what), UploadAccess::Granted);
        assert_eq!(u.access("editor:bbbb", false, what), UploadAccess::Hidden);
        assert_eq!(u.access("manager:x", false, what), UploadAccess::Hidden);
    }
    assert_eq!(
        u.access("admin", true, UploadUse::See),
        UploadAccess::Granted
    );
    assert_eq!(
        u.access("admin", true, UploadUse::End),
        UploadAccess::Granted
    );
    assert_eq!(
        u.access("admin", true, UploadUse::Append),
        UploadAccess::Forbidden
    );
    u.owner = "admin".into();
    assert_eq!(
        u.access("admin", true, UploadUse::Append),
        UploadAccess::Granted
    );
    // A record from before owners were kept belongs to nobody but the admins.
    u.owner = String::new();
    assert_eq!(u.access("", false, UploadUse::See), UploadAccess::Hidden);
    assert_eq!(
        u.access("admin", true, UploadUse::End),
        UploadAccess::Granted
    );
}

#[test]
fn an_old_record_without_an_owner_still_reads() {
    let old = r#"{"id":"u1","length":3,"offset":0,"metadata":{},"created_ms":0,
        "expires_ms":1,"state":{"state":"receiving"}}"#;
    let u: Upload = serde_json::from_str(old).unwrap();
    assert_eq!(u.owner, "");
}
