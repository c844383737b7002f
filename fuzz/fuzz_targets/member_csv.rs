//! The member import CSV: any bytes give one answer per row, each a member that passes its own
//! checks or a reason, with line numbers in order.
#![no_main]
use libfuzzer_sys::fuzz_target;
use yuanjiao::people_import::rows;

fuzz_target!(|data: &[u8]| {
    let mut last = 1;
    for (line, parsed) in rows(data).take(10_000) {
        assert!(line > last);
        last = line;
        if let Ok((member, _pin)) = parsed {
            assert!(member.validate().is_ok());
        }
    }
});
