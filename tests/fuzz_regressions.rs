//! Inputs the fuzzers (scripts/fuzz) found that broke a parser, each kept as a named test.

use yuanjiao::store::decode_check::check_stored_bytes;

/// store_decode: serde_json's default float parser read 2.1000000000000002e301 one ULP off, so an
/// audit entry's detail came back as another number each time it was rewritten.
#[test]
fn a_number_in_a_stored_record_reads_back_exactly() {
    let audit = br#"{"at_ms":1,"actor":"cli","action":"member.update","subject":"m1","detail":2.1000000000000002e301}"#;
    let bytes = [&[1u8][..], audit].concat();
    assert_eq!(check_stored_bytes(&bytes), Ok(1));
}

/// Every stored record kind a real server writes reads back unchanged (the fuzz seeds' shapes).
#[test]
fn records_as_the_server_writes_them_read_back_unchanged() {
    let seeds = std::fs::read_dir("fuzz/seeds/store_decode").unwrap();
    let mut accepted = 0;
    for seed in seeds {
        let bytes = std::fs::read(seed.unwrap().path()).unwrap();
        accepted += check_stored_bytes(&bytes).unwrap();
    }
    assert!(accepted >= 4, "only {accepted} seeds read as records");
}

/// store_decode: compact (postcard) bytes were read as any record, so a probe could come back
/// with a NaN frame rate that its JSON form cannot hold. Only the ledger's records are compact.
#[test]
fn compact_bytes_where_a_json_record_belongs_are_refused() {
    let found: [u8; 48] = [
        2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 255, 255, 255, 0, 0, 0, 0,
        0, 36, 0, 255, 255, 255, 255, 34, 98, 101, 102, 111, 114, 101, 34, 58, 10, 10, 52, 32,
    ];
    let read = check_stored_bytes(&found);
    assert!(read.is_ok(), "{read:?}");
}
