//! The compact form of a ledger entry. Entries are the ledger's bulk (one per report, kept
//! forever), and their JSON was most of what each report wrote; this mirror holds the same
//! facts in postcard, without the field names, the RFC 3339 strings or skipped fields that
//! postcard cannot read back. Entries written as JSON before it are still read.
//!
//! Layouts, by the version byte: 2 is the entry alone (fixtures/ledger_entries_v2.hex holds
//! such bytes); 3 is the same entry followed by its evidence, so that layout 2 reads unchanged.

use super::{decode, decode_any, StoreError, COMPACT_VERSION};
use crate::domain::ledger::Play;
use crate::domain::watch::{Registration, WatchReport};
use crate::repo::{EntryKind, LedgerEntry};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct StoredEntry {
    at_ms: i64,
    actor: String,
    member: String,
    kind: StoredKind,
}

#[derive(Serialize, Deserialize)]
enum StoredKind {
    Watch {
        report: StoredReport,
        offset_ms: i64,
        duration_ms: i64,
    },
    Group(StoredPlay),
    Registration(StoredRegistration),
}

/// A group session's share of playback, field for field as the domain's `Play` was when layout
/// 2 was fixed: the domain type may change, this may not.
#[derive(Serialize, Deserialize)]
struct StoredPlay {
    id: String,
    lesson: String,
    duration_ms: i64,
    wall: (i64, i64),
    played: Vec<(i64, i64)>,
    position_ms: i64,
    session: Option<String>,
}

/// A registration, likewise fixed.
#[derive(Serialize, Deserialize)]
struct StoredRegistration {
    id: String,
    date: String,
    duration_ms: i64,
    reason: String,
    centralised: bool,
    corrects: Option<String>,
}

impl From<&Play> for StoredPlay {
    fn from(p: &Play) -> Self {
        StoredPlay {
            id: p.id.clone(),
            lesson: p.lesson.clone(),
            duration_ms: p.duration_ms,
            wall: p.wall,
            played: p.played.clone(),
            position_ms: p.position_ms,
            session: p.session.clone(),
        }
    }
}

impl From<StoredPlay> for Play {
    fn from(p: StoredPlay) -> Self {
        Play {
            id: p.id,
            lesson: p.lesson,
            duration_ms: p.duration_ms,
            wall: p.wall,
            played: p.played,
            position_ms: p.position_ms,
            session: p.session,
        }
    }
}

impl From<&Registration> for StoredRegistration {
    fn from(r: &Registration) -> Self {
        StoredRegistration {
            id: r.id.clone(),
            date: r.date.clone(),
            duration_ms: r.duration_ms,
            reason: r.reason.clone(),
            centralised: r.centralised,
            corrects: r.corrects.clone(),
        }
    }
}

impl From<StoredRegistration> for Registration {
    fn from(r: StoredRegistration) -> Self {
        Registration {
            id: r.id,
            date: r.date,
            duration_ms: r.duration_ms,
            reason: r.reason,
            centralised: r.centralised,
            corrects: r.corrects,
        }
    }
}

/// The entry's layout with its evidence after it.
const WITH_EVIDENCE: u8 = 3;

/// What a watch entry was credited on, after the entry in layout 3.
#[derive(Serialize, Deserialize, Default)]
struct StoredEvidence {
    play_session: Option<String>,
    witnessed: Option<(i64, i64)>,
    /// Attention checks answered: number, code, instant.
    attention: Vec<(u32, String, (i64, i32))>,
}

/// A watch report without its member (the entry has it); instants as seconds and nanoseconds,
/// so the report reads back exactly as it was sent.
#[derive(Serialize, Deserialize)]
struct StoredReport {
    id: String,
    lesson: String,
    lang: String,
    played: Vec<(u64, u64)>,
    wall: ((i64, i32), (i64, i32)),
    position_ms: u64,
    device_clock: Option<(i64, i32)>,
    group_session: Option<String>,
}

fn instant(t: Timestamp) -> (i64, i32) {
    (t.as_second(), t.subsec_nanosecond())
}

fn timestamp((seconds, nanos): (i64, i32)) -> Result<Timestamp, String> {
    Timestamp::new(seconds, nanos).map_err(|e| e.to_string())
}

pub(super) fn encode_entry(entry: &LedgerEntry) -> Vec<u8> {
    let mut evidence = StoredEvidence::default();
    let kind = match &entry.kind {
        EntryKind::Watch {
            report,
            offset_ms,
            duration_ms,
            witnessed,
        } => {
            evidence = StoredEvidence {
                // A grant's id has its own prefix, so one slot holds either (and layout 3 stands).
                play_session: report.evidence_id().map(str::to_string),
                witnessed: *witnessed,
                attention: report
                    .attention
                    .iter()
                    .map(|(n, code, at)| (*n, code.clone(), instant(*at)))
                    .collect(),
            };
            StoredKind::Watch {
                report: StoredReport {
                    id: report.id.clone(),
                    lesson: report.lesson.clone(),
                    lang: report.lang.as_str().to_string(),
                    played: report.played.clone(),
                    wall: (instant(report.wall.0), instant(report.wall.1)),
                    position_ms: report.position_ms,
                    device_clock: report.device_clock.map(instant),
                    group_session: report.group_session.clone(),
                },
                offset_ms: *offset_ms,
                duration_ms: *duration_ms,
            }
        }
        EntryKind::Group { play } => StoredKind::Group(play.into()),
        EntryKind::Registration(r) => StoredKind::Registration(r.into()),
    };
    let stored = StoredEntry {
        at_ms: entry.at_ms,
        actor: entry.actor.clone(),
        member: entry.member.clone(),
        kind,
    };
    // Like JSON, plain structs of strings and numbers cannot fail to serialise.
    let bytes = postcard::to_extend(&stored, vec![WITH_EVIDENCE]).unwrap_or_default();
    postcard::to_extend(&evidence, bytes).unwrap_or_default()
}

fn is_grant(id: &str) -> bool {
    id.starts_with(crate::domain::evidence::GRANT_PREFIX)
}

pub(super) fn decode_entry(tree: &'static str, bytes: &[u8]) -> Result<LedgerEntry, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { tree, reason };
    let (stored, evidence): (StoredEntry, StoredEvidence) = match bytes.split_first() {
        Some((&COMPACT_VERSION, _)) => (decode_any(tree, bytes)?, StoredEvidence::default()),
        Some((&WITH_EVIDENCE, rest)) => {
            let (stored, rest) =
                postcard::take_from_bytes(rest).map_err(|e| corrupt(e.to_string()))?;
            let evidence = postcard::from_bytes(rest).map_err(|e| corrupt(e.to_string()))?;
            (stored, evidence)
        }
        _ => return decode(tree, bytes),
    };
    let kind = match stored.kind {
        StoredKind::Watch {
            report,
            offset_ms,
            duration_ms,
        } => EntryKind::Watch {
            report: Box::new(WatchReport {
                id: report.id,
                member: stored.member.clone(),
                lesson: report.lesson,
                lang: report
                    .lang
                    .parse()
                    .map_err(|_| corrupt(report.lang.clone()))?,
                played: report.played,
                wall: (
                    timestamp(report.wall.0).map_err(corrupt)?,
                    timestamp(report.wall.1).map_err(corrupt)?,
                ),
                position_ms: report.position_ms,
                device_clock: report
                    .device_clock
                    .map(timestamp)
                    .transpose()
                    .map_err(corrupt)?,
                group_session: report.group_session,
                play_session: evidence.play_session.clone().filter(|id| !is_grant(id)),
                grant: evidence.play_session.filter(|id| is_grant(id)),
                attention: evidence
                    .attention
                    .into_iter()
                    .map(|(n, code, at)| Ok((n, code, timestamp(at).map_err(corrupt)?)))
                    .collect::<Result<_, StoreError>>()?,
            }),
            offset_ms,
            duration_ms,
            witnessed: evidence.witnessed,
        },
        StoredKind::Group(play) => EntryKind::Group { play: play.into() },
        StoredKind::Registration(r) => EntryKind::Registration(r.into()),
    };
    Ok(LedgerEntry {
        at_ms: stored.at_ms,
        actor: stored.actor,
        member: stored.member,
        kind,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn report(device_clock: Option<&str>) -> WatchReport {
        WatchReport {
            id: "r-1".into(),
            member: "M0001".into(),
            lesson: "L1".into(),
            lang: "bo-Tibt".parse().unwrap(),
            played: vec![(0, 15_000), (30_000, 31_500)],
            wall: (
                "2026-03-01T08:00:00.123456789Z".parse().unwrap(),
                "2026-03-01T08:00:30Z".parse().unwrap(),
            ),
            position_ms: 31_500,
            device_clock: device_clock.map(|c| c.parse().unwrap()),
            group_session: Some("s-1".into()),
            play_session: None,
            grant: None,
            attention: Vec::new(),
        }
    }

    pub(super) fn entries() -> Vec<LedgerEntry> {
        let entry = |kind| LedgerEntry {
            at_ms: 1_772_352_000_000,
            actor: "terminal:st-01".into(),
            member: "M0001".into(),
            kind,
        };
        vec![
            entry(EntryKind::Watch {
                report: Box::new(report(Some("2026-03-01T08:05:00.5Z"))),
                offset_ms: -300_000,
                duration_ms: 600_000,
                witnessed: None,
            }),
            entry(EntryKind::Watch {
                report: Box::new(report(None)),
                offset_ms: 0,
                duration_ms: 600_000,
                witnessed: None,
            }),
            entry(EntryKind::Group {
                play: report(None).play(0, 600_000),
            }),
            entry(EntryKind::Registration(Registration {
                id: "g-1".into(),
                date: "2026-03-02".into(),
                duration_ms: -2_700_000,
                reason: "更正".into(),
                centralised: true,
                corrects: Some("g-0".into()),
            })),
        ]
    }

    /// An entry with its evidence: the session it names and the part of its wall it witnessed.
    fn witnessed_entry() -> LedgerEntry {
        let mut entry = entries().remove(0);
        if let EntryKind::Watch {
            report, witnessed, ..
        } = &mut entry.kind
        {
            report.play_session = Some("ps1.AAAA".into());
            report.attention = vec![(
                1,
                "a1b2c3".into(),
                "2026-03-01T08:10:00.25Z".parse().unwrap(),
            )];
            *witnessed = Some((1_772_323_200_000, 1_772_323_210_000));
        }
        entry
    }

    /// The same, played offline under a grant.
    fn granted_entry() -> LedgerEntry {
        let mut entry = witnessed_entry();
        if let EntryKind::Watch { report, .. } = &mut entry.kind {
            report.grant = report.play_session.take().map(|_| "og1.BBBB".into());
        }
        entry
    }

    pub(super) fn all_entries() -> Vec<LedgerEntry> {
        entries()
            .into_iter()
            .chain([witnessed_entry(), granted_entry()])
            .collect()
    }

    #[test]
    fn every_kind_of_entry_reads_back_exactly() {
        for entry in entries()
            .into_iter()
            .chain([witnessed_entry(), granted_entry()])
        {
            let bytes = encode_entry(&entry);
            assert_eq!(bytes[0], WITH_EVIDENCE);
            assert_eq!(decode_entry("ledger", &bytes).unwrap(), entry);
        }
    }

    #[test]
    fn entries_written_in_the_first_compact_layout_still_read() {
        let fixture = include_str!("fixtures/ledger_entries_v2.hex");
        let old: Vec<&str> = fixture.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(old.len(), entries().len());
        for (hex, entry) in old.iter().zip(entries()) {
            let bytes = hex::decode(hex).unwrap();
            assert_eq!(bytes[0], COMPACT_VERSION);
            assert_eq!(decode_entry("ledger", &bytes).unwrap(), entry);
        }
    }

    #[test]
    fn entries_written_in_the_layout_with_evidence_still_read() {
        let fixture = include_str!("fixtures/ledger_entries_v3.hex");
        let old: Vec<&str> = fixture.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(old.len(), all_entries().len());
        for (hex, entry) in old.iter().zip(all_entries()) {
            let bytes = hex::decode(hex).unwrap();
            assert_eq!(decode_entry("ledger", &bytes).unwrap(), entry);
            assert_eq!(
                encode_entry(&entry),
                bytes,
                "today's layout is still this one"
            );
        }
    }

    #[test]
    fn entries_written_as_json_before_are_still_read() {
        let fixture = include_str!("fixtures/ledger_entries_v1.jsonl");
        let old: Vec<&str> = fixture.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(old.len(), entries().len());
        for (json, entry) in old.iter().zip(entries()) {
            let bytes = [&[1u8][..], json.as_bytes()].concat();
            assert_eq!(decode_entry("ledger", &bytes).unwrap(), entry);
        }
    }

    #[test]
    fn the_compact_entry_is_a_fraction_of_the_json() {
        let entry = &entries()[0];
        let (compact, json) = (encode_entry(entry).len(), super::super::encode(entry).len());
        assert!(compact * 3 < json, "compact {compact} bytes, JSON {json}");
    }

    #[test]
    fn a_damaged_entry_is_an_error_not_a_panic() {
        let bytes = encode_entry(&witnessed_entry());
        for cut in 1..bytes.len() {
            assert!(decode_entry("ledger", &bytes[..cut]).is_err());
        }
    }
}
