//! `Accept-Language` and language tags: any header gives preferences, and negotiation over
//! them always picks one of the languages on offer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use yuanjiao::domain::lang::{negotiate, Fallbacks, Lang, Preferences};

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let prefs = Preferences::from_accept_language(header);
    let _ = Lang::matching(header);
    let _ = header.parse::<Lang>();
    let available: BTreeSet<Lang> = ["ug-Arab", "bo-Tibt"]
        .iter()
        .filter_map(|l| l.parse().ok())
        .collect();
    let Ok(fallbacks) = Fallbacks::new(BTreeMap::new()) else {
        return;
    };
    let chosen = negotiate(&prefs, &available, &fallbacks).map(|n| n.served);
    assert!(chosen.is_some_and(|l| available.contains(&l)));
});
