use super::*;

fn lang(s: &str) -> Lang {
    s.parse().unwrap()
}

fn set(langs: &[&str]) -> BTreeSet<Lang> {
    langs.iter().map(|l| lang(l)).collect()
}

#[test]
fn tags_are_canonicalised_and_unknown_ones_refused() {
    assert_eq!("UG-arab".parse::<Lang>().unwrap().as_str(), "ug-Arab");
    assert!("ug".parse::<Lang>().is_err());
    assert!("zh-Hant".parse::<Lang>().is_err());
    assert!("".parse::<Lang>().is_err());
}

#[test]
fn writing_direction_follows_the_script() {
    let cases = [
        ("ug-Arab", "rtl", "horizontal-tb"),
        ("kk-Arab", "rtl", "horizontal-tb"),
        ("mn-Mong", "ltr", "vertical-lr"),
        ("bo-Tibt", "ltr", "horizontal-tb"),
        ("zh-Hans", "ltr", "horizontal-tb"),
    ];
    for (tag, dir, mode) in cases {
        assert_eq!(
            (lang(tag).dir(), lang(tag).writing_mode()),
            (dir, mode),
            "{tag}"
        );
    }
}

#[test]
fn ranges_match_by_language_and_script() {
    let cases: &[(&str, &[&str])] = &[
        ("ug", &["ug-Arab"]),
        ("UG-arab", &["ug-Arab"]),
        ("ug-CN", &["ug-Arab"]),
        ("ug-Latn", &[]),
        ("zh", &["zh-Hans"]),
        ("zh-CN", &["zh-Hans"]),
        ("zh-Hans-CN", &["zh-Hans"]),
        ("zh-TW", &[]),
        ("zh-Hant", &[]),
        ("kk-KZ", &[]),
        ("kk-CN", &["kk-Arab"]),
        ("mn", &["mn-Mong"]),
        ("mn-MN", &[]),
        ("en-US", &[]),
        ("", &[]),
        ("x-klingon", &[]),
    ];
    for (range, expected) in cases {
        let got: Vec<String> = Lang::matching(range)
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(got, *expected, "range {range:?}");
    }
    assert_eq!(Lang::matching("*").len(), KNOWN.len());
}

#[test]
fn negotiation_table() {
    // (Accept-Language, available, served, fallback)
    let cases: &[(&str, &[&str], &str, bool)] = &[
        ("bo-Tibt", &["zh-Hans", "bo-Tibt"], "bo-Tibt", false),
        ("bo", &["zh-Hans", "bo-Tibt"], "bo-Tibt", false),
        ("bo-Tibt", &["zh-Hans"], "zh-Hans", true),
        ("ug, zh;q=0.5", &["zh-Hans", "ug-Arab"], "ug-Arab", false),
        ("zh;q=0.5, ug", &["zh-Hans", "ug-Arab"], "ug-Arab", false),
        (
            "ug;q=0.4, bo;q=0.8",
            &["zh-Hans", "ug-Arab", "bo-Tibt"],
            "bo-Tibt",
            false,
        ),
        // A lesser but named preference beats the configured chain.
        (
            "bo-Tibt, ug-Arab;q=0.5",
            &["zh-Hans", "ug-Arab"],
            "ug-Arab",
            true,
        ),
        // Equal weights keep the client's order.
        (
            "mn, bo",
            &["zh-Hans", "mn-Mong", "bo-Tibt"],
            "mn-Mong",
            false,
        ),
        // No header at all: Chinese, and that is no fallback.
        ("", &["zh-Hans", "bo-Tibt"], "zh-Hans", false),
        ("*", &["bo-Tibt", "zh-Hans"], "zh-Hans", false),
        ("*", &["bo-Tibt"], "bo-Tibt", false),
        ("ug, *;q=0.1", &["bo-Tibt", "zh-Hans"], "zh-Hans", true),
        // Refused languages are never chosen while another is available.
        ("*, zh;q=0", &["zh-Hans", "bo-Tibt"], "bo-Tibt", false),
        ("ug, zh;q=0", &["zh-Hans", "bo-Tibt"], "bo-Tibt", true),
        // Unknown and malformed entries are skipped.
        ("en-US, fr;q=0.9", &["zh-Hans", "bo-Tibt"], "zh-Hans", false),
        (
            "bo;q=2, ug;q=abc, zh;q=0.3",
            &["zh-Hans", "bo-Tibt", "ug-Arab"],
            "zh-Hans",
            false,
        ),
        ("zh-TW", &["zh-Hans"], "zh-Hans", false),
        // A lesson without Chinese still gets served.
        ("ko", &["mn-Mong"], "mn-Mong", true),
    ];
    for (header, available, served, fallback) in cases {
        let prefs = Preferences::from_accept_language(header);
        let got = negotiate(&prefs, &set(available), &Fallbacks::default()).unwrap();
        assert_eq!(
            (got.served.as_str(), got.fallback),
            (*served, *fallback),
            "Accept-Language {header:?} over {available:?}"
        );
    }
}

#[test]
fn an_explicit_choice_wins_over_the_header() {
    let prefs = Preferences::from_accept_language("bo-Tibt, zh;q=0").preferring(lang("zh-Hans"));
    let got = negotiate(&prefs, &set(&["zh-Hans", "bo-Tibt"]), &Fallbacks::default()).unwrap();
    assert_eq!((got.served.as_str(), got.fallback), ("zh-Hans", false));
    assert_eq!(got.requested, Some(lang("zh-Hans")));
}

#[test]
fn configured_chains_are_followed_before_chinese() {
    let chains = Fallbacks::new([(lang("kk-Arab"), vec![lang("ug-Arab")])].into()).unwrap();
    assert_eq!(
        chains.chain(&lang("kk-Arab")),
        vec![lang("kk-Arab"), lang("ug-Arab"), lang("zh-Hans")]
    );
    let prefs = Preferences::from_accept_language("kk");
    let got = negotiate(&prefs, &set(&["zh-Hans", "ug-Arab"]), &chains).unwrap();
    assert_eq!((got.served.as_str(), got.fallback), ("ug-Arab", true));
    assert_eq!(got.dir, "rtl");
    assert!(Fallbacks::new([(lang("kk-Arab"), vec![lang("kk-Arab")])].into()).is_err());
}

#[test]
fn nothing_available_negotiates_nothing() {
    let prefs = Preferences::from_accept_language("bo");
    assert_eq!(
        negotiate(&prefs, &BTreeSet::new(), &Fallbacks::default()),
        None
    );
}

#[test]
fn q_values_are_parsed_strictly() {
    let cases = [
        ("1", Some(1000)),
        ("1.000", Some(1000)),
        ("0.5", Some(500)),
        ("0.125", Some(125)),
        ("0", Some(0)),
        ("1.5", None),
        ("0.1234", None),
        ("-0.5", None),
        ("", None),
    ];
    for (text, q) in cases {
        assert_eq!(parse_q(text), q, "{text:?}");
    }
}
