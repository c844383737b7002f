//! CSV cells that a spreadsheet cannot turn against the person who opens the file: a cell
//! that begins like a formula (`=`, `+`, `-`, `@`) or with a tab or carriage return, which
//! some programs skip before looking for one, is prefixed with `'`, which spreadsheets read as
//! "this is text" and do not show. A plain number such as `-3.5` stays a number.

use std::borrow::Cow;

/// Characters a spreadsheet may read as the start of a formula (OWASP's list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value` as a CSV cell that no spreadsheet evaluates.
pub fn cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some(first) if FORMULA_STARTS.contains(&first) && !is_plain_number(value) => {
            Cow::Owned(format!("'{value}"))
        }
        _ => Cow::Borrowed(value),
    }
}

/// `[+-]digits[.digits]`: what a spreadsheet reads as a number and nothing else.
fn is_plain_number(value: &str) -> bool {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cells_that_start_like_a_formula_are_quoted() {
        for (given, want) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("-1e5", "'-1e5"),
            ("-.5", "'-.5"),
            ("--1", "'--1"),
        ] {
            assert_eq!(cell(given), want, "{given:?}");
        }
    }

    #[test]
    fn numbers_and_ordinary_text_are_left_alone() {
        for given in [
            "-3.5", "+7", "-0", "12.25", "0", "卓玛", "county", "", " =1", "a=b", "'x",
        ] {
            assert_eq!(cell(given), given, "{given:?}");
        }
    }

    proptest! {
        #[test]
        fn no_cell_starts_a_formula_and_the_text_survives(value in "\\PC{0,12}|[-+=@\t\r][ -~]{0,8}") {
            let out = cell(&value);
            let starts = out.chars().next().is_some_and(|c| FORMULA_STARTS.contains(&c));
            prop_assert!(!starts || is_plain_number(&out), "{out:?}");
            prop_assert_eq!(out.strip_prefix('\'').filter(|_| out != value).unwrap_or(&out), value.as_str());
        }
    }
}
