//! Sets of half-open integer intervals `[from, to)`, kept sorted and disjoint: what a member
//! has watched of a lesson (media milliseconds) and when they were credited (wall milliseconds).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntervalSet(Vec<(i64, i64)>);

impl IntervalSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn intervals(&self) -> &[(i64, i64)] {
        &self.0
    }

    /// The total length covered.
    pub fn measure(&self) -> i64 {
        self.0.iter().map(|(a, b)| b - a).sum()
    }

    /// Adds `[from, to)`, merging what it touches.
    pub fn insert(&mut self, from: i64, to: i64) {
        if from >= to {
            return;
        }
        // The first interval that ends at or after `from` may merge; so may those after it
        // that start at or before `to`.
        let first = self.0.partition_point(|(_, b)| *b < from);
        let last = self.0.partition_point(|(a, _)| *a <= to);
        if first == last {
            self.0.insert(first, (from, to));
            return;
        }
        let merged = (from.min(self.0[first].0), to.max(self.0[last - 1].1));
        self.0.splice(first..last, std::iter::once(merged));
    }

    /// The parts of `[from, to)` this set does not cover, in order.
    pub fn gaps(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        let mut gaps = Vec::new();
        let mut cursor = from;
        let start = self.0.partition_point(|(_, b)| *b <= from);
        for &(a, b) in &self.0[start..] {
            if a >= to {
                break;
            }
            if a > cursor {
                gaps.push((cursor, a.min(to)));
            }
            cursor = cursor.max(b);
            if cursor >= to {
                break;
            }
        }
        if cursor < to {
            gaps.push((cursor, to));
        }
        gaps
    }

    /// How much of `[from, to)` this set covers.
    pub fn overlap(&self, from: i64, to: i64) -> i64 {
        let free: i64 = self.gaps(from, to).iter().map(|(a, b)| b - a).sum();
        (to - from).max(0) - free
    }
}

/// Intervals in a given order (not a set).
pub type Spans = Vec<(i64, i64)>;

/// The first `len` units of a list of intervals taken in order, and what is left after them.
pub fn split_at_length(parts: &[(i64, i64)], len: i64) -> (Spans, Spans) {
    let (mut head, mut tail) = (Vec::new(), Vec::new());
    let mut left = len.max(0);
    for &(a, b) in parts {
        let take = left.min(b - a);
        if take > 0 {
            head.push((a, a + take));
        }
        if a + take < b {
            tail.push((a + take, b));
        }
        left -= take;
    }
    (head, tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn inserting_merges_overlapping_and_touching_intervals() {
        let mut s = IntervalSet::new();
        s.insert(10, 20);
        s.insert(30, 40);
        s.insert(20, 25);
        assert_eq!(s.intervals(), &[(10, 25), (30, 40)]);
        s.insert(5, 35);
        assert_eq!(s.intervals(), &[(5, 40)]);
        s.insert(50, 50);
        assert_eq!(s.measure(), 35);
    }

    #[test]
    fn gaps_are_what_is_not_covered() {
        let mut s = IntervalSet::new();
        s.insert(10, 20);
        s.insert(30, 40);
        assert_eq!(s.gaps(0, 50), vec![(0, 10), (20, 30), (40, 50)]);
        assert_eq!(s.gaps(12, 18), vec![]);
        assert_eq!(s.gaps(15, 35), vec![(20, 30)]);
        assert_eq!(s.overlap(15, 35), 10);
    }

    #[test]
    fn splitting_by_length_keeps_order() {
        let parts = [(0, 10), (100, 120)];
        assert_eq!(
            split_at_length(&parts, 15),
            (vec![(0, 10), (100, 105)], vec![(105, 120)])
        );
        assert_eq!(split_at_length(&parts, 0), (vec![], parts.to_vec()));
        assert_eq!(split_at_length(&parts, 99), (parts.to_vec(), vec![]));
    }

    proptest! {
        #[test]
        fn the_set_matches_a_bitmap(ops in prop::collection::vec((0i64..200, 0i64..40), 0..30)) {
            let mut s = IntervalSet::new();
            let mut bits = vec![false; 240];
            for (from, len) in ops {
                s.insert(from, from + len);
                for b in &mut bits[from as usize..(from + len) as usize] {
                    *b = true;
                }
            }
            prop_assert_eq!(s.measure(), bits.iter().filter(|b| **b).count() as i64);
            for w in s.intervals().windows(2) {
                prop_assert!(w[0].1 < w[1].0, "disjoint and not touching");
            }
            let gaps: i64 = s.gaps(0, 240).iter().map(|(a, b)| b - a).sum();
            prop_assert_eq!(gaps, 240 - s.measure());
        }
    }
}
