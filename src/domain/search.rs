//! Substring search for scripts written without spaces between words (Chinese, Tibetan runs
//! syllables together with tsheg marks): an index of character pairs narrows the candidates,
//! then a plain substring test confirms each. Whitespace tokens would miss most words.

use std::collections::HashMap;

/// Documents, numbered in the order given, and where each character pair occurs.
#[derive(Debug, Default)]
pub struct TextIndex {
    docs: Vec<String>,
    grams: HashMap<u64, Vec<u32>>,
}

/// Fields of one document are joined with this, which no query contains, so a match never
/// spans two fields.
pub const FIELD_SEPARATOR: char = '\u{1F}';

/// Case-folded, so Latin-script Zhuang and queries typed in any case meet.
pub fn normalize(text: &str) -> String {
    text.trim().to_lowercase()
}

fn single(c: char) -> u64 {
    (1 << 42) | c as u64
}

fn pair(a: char, b: char) -> u64 {
    ((a as u64) << 21) | b as u64
}

impl TextIndex {
    pub fn new(docs: impl IntoIterator<Item = String>) -> TextIndex {
        let mut index = TextIndex::default();
        for (n, doc) in docs.into_iter().enumerate() {
            let doc = normalize(&doc);
            let mut keys: Vec<u64> = Vec::new();
            let chars: Vec<char> = doc.chars().collect();
            keys.extend(chars.iter().map(|c| single(*c)));
            keys.extend(chars.windows(2).map(|w| pair(w[0], w[1])));
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                index.grams.entry(key).or_default().push(n as u32);
            }
            index.docs.push(doc);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The numbers, ascending, of the documents that contain `query`; `None` for an empty
    /// query (no filter).
    pub fn search(&self, query: &str) -> Option<Vec<u32>> {
        let (candidates, query) = self.candidates(query)?;
        Some(
            candidates
                .into_iter()
                .filter(|doc| self.confirms(*doc, &query))
                .collect(),
        )
    }

    /// The documents that hold every character pair of `query` (a superset of the matches,
    /// ascending), and the query as documents are indexed; `None` for an empty query. Callers
    /// that need only the first few matches confirm candidates one at a time.
    pub fn candidates(&self, query: &str) -> Option<(Vec<u32>, String)> {
        let query = normalize(query);
        let chars: Vec<char> = query.chars().collect();
        let mut keys: Vec<u64> = match chars.as_slice() {
            [] => return None,
            [c] => vec![single(*c)],
            _ => chars.windows(2).map(|w| pair(w[0], w[1])).collect(),
        };
        keys.sort_unstable();
        keys.dedup();
        let mut lists: Vec<&Vec<u32>> = Vec::with_capacity(keys.len());
        for key in &keys {
            match self.grams.get(key) {
                Some(list) => lists.push(list),
                None => return Some((Vec::new(), query)),
            }
        }
        lists.sort_by_key(|l| l.len());
        let mut candidates: Vec<u32> = lists.first().map(|l| l.to_vec()).unwrap_or_default();
        for list in &lists[1..] {
            candidates.retain(|doc| list.binary_search(doc).is_ok());
        }
        Some((candidates, query))
    }

    /// Whether document `doc` really contains `normalized` (as `candidates` returned it).
    pub fn confirms(&self, doc: u32, normalized: &str) -> bool {
        self.docs
            .get(doc as usize)
            .is_some_and(|text| text.contains(normalized))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> TextIndex {
        TextIndex::new(
            [
                "党的基本知识\u{1F}介绍党的基层组织体系",
                "ཏང་གི་གཞི་རྩའི་ཤེས་བྱ།",
                "农村实用技术：温室大棚种植",
                "Dajbouj Vunzcaeuq Bouxdangj",
                "ab\u{1F}bc",
            ]
            .map(String::from),
        )
    }

    #[test]
    fn finds_a_chinese_word_in_the_middle_of_a_title() {
        assert_eq!(index().search("基本"), Some(vec![0]));
        assert_eq!(index().search("大棚"), Some(vec![2]));
        assert_eq!(index().search("组织体系"), Some(vec![0]));
    }

    #[test]
    fn finds_a_tibetan_syllable_in_the_middle_of_a_title() {
        assert_eq!(index().search("གཞི་རྩ"), Some(vec![1]));
        assert_eq!(index().search("ཤེས"), Some(vec![1]));
    }

    #[test]
    fn single_characters_and_case_are_handled() {
        assert_eq!(index().search("党"), Some(vec![0]));
        assert_eq!(index().search("VUNZ"), Some(vec![3]));
        assert_eq!(index().search("  "), None);
    }

    #[test]
    fn pairs_present_apart_are_not_a_match() {
        // "技术" and "术：" occur, but not "技术种植".
        assert_eq!(index().search("技术种植"), Some(vec![]));
        // "ab" and "bc" are in different fields.
        assert_eq!(index().search("abc"), Some(vec![]));
        assert_eq!(index().search("不存在"), Some(vec![]));
    }
}
