//! Language tags of the curriculum (BCP 47 language plus script, from a closed list), how each
//! is written, fallback chains, and `Accept-Language` negotiation.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// The languages the curriculum is written or translated in.
pub const KNOWN: &[&str] = &[
    "zh-Hans", "ug-Arab", "bo-Tibt", "mn-Mong", "kk-Arab", "ii-Yiii", "za-Latn", "ko-Kore",
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Lang(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}; known: {known}", known = KNOWN.join(", "))]
pub struct UnknownLang(pub String);

impl Lang {
    /// zh-Hans, the language every lesson has and every fallback ends at.
    pub fn chinese() -> Lang {
        Lang("zh-Hans".to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or_default()
    }

    fn script(&self) -> &str {
        self.0.split('-').nth(1).unwrap_or_default()
    }

    /// The language's name for itself, for language pickers.
    pub fn autonym(&self) -> &'static str {
        match self.0.as_str() {
            "zh-Hans" => "中文（简体）",
            "ug-Arab" => "ئۇيغۇرچە",
            "bo-Tibt" => "བོད་ཡིག",
            "mn-Mong" => "ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ",
            "kk-Arab" => "قازاق ٴتىلى",
            "ii-Yiii" => "ꆈꌠꉙ",
            "za-Latn" => "Vahcuengh",
            "ko-Kore" => "조선말",
            _ => "",
        }
    }

    /// The HTML `dir` of text in this language: Arabic-script Uyghur and Kazakh run right to left.
    pub fn dir(&self) -> &'static str {
        if self.script() == "Arab" {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// The CSS `writing-mode`: traditional Mongolian script is written in vertical lines that
    /// advance left to right.
    pub fn writing_mode(&self) -> &'static str {
        if self.script() == "Mong" {
            "vertical-lr"
        } else {
            "horizontal-tb"
        }
    }

    /// Every known language an `Accept-Language` range (RFC 4647 basic filtering) accepts.
    /// A range without a script matches ours (`ug` → `ug-Arab`) unless its region implies
    /// another script (`zh-TW` is Traditional Chinese, `kk-KZ` and `mn-MN` are Cyrillic).
    pub fn matching(range: &str) -> Vec<Lang> {
        let range = range.trim();
        if range == "*" {
            return KNOWN.iter().map(|k| Lang((*k).to_string())).collect();
        }
        let mut subtags = range.split('-');
        let language = subtags.next().unwrap_or_default().to_ascii_lowercase();
        let mut script = None;
        let mut region = None;
        for tag in subtags {
            let is_alpha = tag.bytes().all(|b| b.is_ascii_alphabetic());
            match tag.len() {
                4 if is_alpha && script.is_none() && region.is_none() => {
                    script = Some(tag.to_ascii_lowercase())
                }
                2 if is_alpha => region = Some(tag.to_ascii_uppercase()),
                3 if tag.bytes().all(|b| b.is_ascii_digit()) => region = Some(tag.to_string()),
                _ => {}
            }
        }
        let implied = match (language.as_str(), region.as_deref()) {
            ("zh", Some("TW" | "HK" | "MO")) => Some("hant".to_string()),
            ("kk", Some("KZ")) | ("mn", Some("MN")) => Some("cyrl".to_string()),
            _ => None,
        };
        let script = script.or(implied);
        KNOWN
            .iter()
            .map(|k| Lang((*k).to_string()))
            .filter(|k| k.primary() == language)
            .filter(|k| {
                script
                    .as_deref()
                    .is_none_or(|s| k.script().eq_ignore_ascii_case(s))
            })
            .collect()
    }
}

impl FromStr for Lang {
    type Err = UnknownLang;

    /// Matches case-insensitively (tags are case-insensitive) and keeps the canonical case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KNOWN
            .iter()
            .find(|k| k.eq_ignore_ascii_case(s))
            .map(|k| Lang((*k).to_string()))
            .ok_or_else(|| UnknownLang(s.to_string()))
    }
}

impl TryFrom<String> for Lang {
    type Error = UnknownLang;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Lang> for String {
    fn from(l: Lang) -> String {
        l.0
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where each language falls back to when a lesson lacks it. Every chain ends at zh-Hans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fallbacks(BTreeMap<Lang, Vec<Lang>>);

impl Fallbacks {
    /// Chains as configured; a chain may not name its own language.
    pub fn new(chains: BTreeMap<Lang, Vec<Lang>>) -> Result<Self, String> {
        for (lang, chain) in &chains {
            if chain.contains(lang) {
                return Err(format!("the chain of {lang} names {lang} itself"));
            }
        }
        Ok(Fallbacks(chains))
    }

    /// `lang` itself, then its configured chain, then zh-Hans; each language once.
    pub fn chain(&self, lang: &Lang) -> Vec<Lang> {
        let mut chain = vec![lang.clone()];
        let configured = self.0.get(lang).into_iter().flatten();
        for next in configured.chain(std::iter::once(&Lang::chinese())) {
            if !chain.contains(next) {
                chain.push(next.clone());
            }
        }
        chain
    }
}

/// What a client asked for, most wanted first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    wanted: Vec<Wanted>,
    refused: BTreeSet<Lang>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    Lang(Lang),
    Any,
}

impl Preferences {
    /// Parses an `Accept-Language` value. Unknown tags and malformed entries are skipped;
    /// `q=0` refuses a language; equal weights keep the client's order.
    pub fn from_accept_language(header: &str) -> Preferences {
        let mut weighted: Vec<(u16, Wanted)> = Vec::new();
        let mut refused = BTreeSet::new();
        for entry in header.split(',') {
            let mut parts = entry.split(';');
            let range = parts.next().unwrap_or_default().trim();
            let Some(q) = parts.map(str::trim).try_fold(1000u16, |q, param| {
                match param
                    .strip_prefix("q=")
                    .or_else(|| param.strip_prefix("Q="))
                {
                    Some(value) => parse_q(value),
                    None => Some(q),
                }
            }) else {
                continue;
            };
            if range == "*" {
                if q > 0 {
                    weighted.push((q, Wanted::Any));
                }
                continue;
            }
            for lang in Lang::matching(range) {
                if q == 0 {
                    refused.insert(lang);
                } else {
                    weighted.push((q, Wanted::Lang(lang)));
                }
            }
        }
        weighted.sort_by_key(|(q, _)| std::cmp::Reverse(*q));
        let mut wanted: Vec<Wanted> = Vec::new();
        for (_, w) in weighted {
            let refused_lang = matches!(&w, Wanted::Lang(l) if refused.contains(l));
            if !refused_lang && !wanted.contains(&w) {
                wanted.push(w);
            }
        }
        Preferences { wanted, refused }
    }

    /// These languages, in this order.
    pub fn languages(langs: &[Lang]) -> Preferences {
        Preferences {
            wanted: langs.iter().cloned().map(Wanted::Lang).collect(),
            refused: BTreeSet::new(),
        }
    }

    /// An explicit choice (`lang=`) put ahead of everything else.
    pub fn preferring(mut self, lang: Lang) -> Preferences {
        self.wanted.retain(|w| w != &Wanted::Lang(lang.clone()));
        self.refused.remove(&lang);
        self.wanted.insert(0, Wanted::Lang(lang));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.wanted.is_empty()
    }

    /// The language the client wants most, if it named one.
    pub fn first(&self) -> Option<&Lang> {
        self.wanted.iter().find_map(|w| match w {
            Wanted::Lang(l) => Some(l),
            Wanted::Any => None,
        })
    }
}

/// A q-value: 0 to 1 with at most three decimals, kept in thousandths.
fn parse_q(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The language chosen for a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negotiated {
    pub served: Lang,
    /// The language the client wanted most, if it named one.
    pub requested: Option<Lang>,
    /// True when `served` is not what the client wanted most.
    pub fallback: bool,
    pub dir: &'static str,
    pub writing_mode: &'static str,
}

/// Picks one of `available` for a client: its most wanted language that is there; else the
/// first that its fallback chains reach; else zh-Hans; else the first available. `None` only
/// when nothing is available.
pub fn negotiate(
    prefs: &Preferences,
    available: &BTreeSet<Lang>,
    fallbacks: &Fallbacks,
) -> Option<Negotiated> {
    let usable = |l: &Lang| available.contains(l) && !prefs.refused.contains(l);
    let requested = prefs.first().cloned();
    let through_chains = || {
        prefs
            .wanted
            .iter()
            .filter_map(|w| match w {
                Wanted::Lang(l) => Some(l),
                Wanted::Any => None,
            })
            .flat_map(|l| fallbacks.chain(l))
            .chain(std::iter::once(Lang::chinese()))
            .find(|l| usable(l))
    };
    let direct = prefs.wanted.iter().find_map(|w| match w {
        Wanted::Lang(l) => usable(l).then(|| l.clone()),
        Wanted::Any => through_chains().or_else(|| available.iter().find(|l| usable(l)).cloned()),
    });
    let served = direct
        .or_else(through_chains)
        .or_else(|| available.iter().next().cloned())?;
    Some(Negotiated::of(served, requested))
}

impl Negotiated {
    pub fn of(served: Lang, requested: Option<Lang>) -> Negotiated {
        Negotiated {
            fallback: requested.as_ref().is_some_and(|r| *r != served),
            dir: served.dir(),
            writing_mode: served.writing_mode(),
            requested,
            served,
        }
    }
}

#[cfg(test)]
#[path = "lang_tests.rs"]
mod tests;
