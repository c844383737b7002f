//! Language tags of the curriculum: BCP 47 language plus script, from a closed list.

use serde::{Deserialize, Serialize};
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_canonicalised_and_unknown_ones_refused() {
        assert_eq!("UG-arab".parse::<Lang>().unwrap().as_str(), "ug-Arab");
        assert!("ug".parse::<Lang>().is_err());
        assert!("zh-Hant".parse::<Lang>().is_err());
        assert!("".parse::<Lang>().is_err());
    }
}
