//! Decoding stored records: any bytes are refused or read, and a record that reads is written
//! back the same however many times it is rewritten.
#![no_main]
use libfuzzer_sys::fuzz_target;
use yuanjiao::store::decode_check::check_stored_bytes;

fuzz_target!(|data: &[u8]| {
    if let Err(change) = check_stored_bytes(data) {
        panic!("{change}");
    }
});
