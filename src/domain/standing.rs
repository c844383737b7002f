//! Who is furthest behind: the order in which a secretary wants to see members' years. Those
//! who have not met their requirement come first, the smallest share of what they owe at the
//! top (nothing at all before a little of 56 hours before a little of 32); then those who met
//! it, in the same order. Shares are compared exactly (credited ms against required hours,
//! cross-multiplied), ties by member id, so the order is the same on every page and every run.

use std::cmp::Ordering;

/// What the order looks at in one member's year.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub member: &'a str,
    pub met: bool,
    pub credited_ms: i64,
    pub required_hours: u32,
}

/// Behind before met; then the smaller share of the requirement; then the member id.
pub fn behind_first(a: &Place, b: &Place) -> Ordering {
    a.met
        .cmp(&b.met)
        .then_with(|| share(a).cmp(&share(b)))
        .then_with(|| a.member.cmp(b.member))
}

/// A share as a fraction compared by cross-multiplication; owing nothing counts as all done.
fn share(p: &Place) -> Share {
    Share {
        credited: i128::from(p.credited_ms.max(0)),
        required: i128::from(p.required_hours),
    }
}

#[derive(PartialEq, Eq)]
struct Share {
    credited: i128,
    required: i128,
}

impl Ord for Share {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.required == 0, other.required == 0) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                (self.credited * other.required).cmp(&(other.credited * self.required))
            }
        }
    }
}

impl PartialOrd for Share {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 45 * 60_000;

    fn place(member: &str, met: bool, hours: i64, required: u32) -> Place<'_> {
        Place {
            member,
            met,
            credited_ms: hours * HOUR,
            required_hours: required,
        }
    }

    #[test]
    fn the_furthest_behind_come_first_and_those_who_met_it_last() {
        let mut places = [
            place("M2", true, 33, 32),
            place("S1", false, 10, 56),
            place("M1", false, 10, 32),
            place("M3", false, 0, 32),
            // Enough hours but no centralised training: behind, yet nearly done.
            place("S2", false, 60, 56),
            place("M4", false, 0, 32),
            place("M5", true, 40, 32),
            place("X", true, 0, 0),
        ];
        places.sort_by(behind_first);
        let order: Vec<&str> = places.iter().map(|p| p.member).collect();
        assert_eq!(order, ["M3", "M4", "S1", "M1", "S2", "M2", "M5", "X"]);
    }

    #[test]
    fn shares_are_compared_exactly_not_in_floating_point() {
        // 1/3 of 3 hours against 2/6: equal shares, so the id decides.
        let a = Place {
            member: "b",
            met: false,
            credited_ms: 1,
            required_hours: 3,
        };
        let b = Place {
            member: "a",
            met: false,
            credited_ms: 2,
            required_hours: 6,
        };
        assert_eq!(behind_first(&a, &b), Ordering::Greater);
        assert_eq!(behind_first(&b, &a), Ordering::Less);
    }
}
