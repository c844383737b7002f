//! The ledger's contract: a batch of requests' writes lands as one, entries keep their order
//! per member however many batches arrive at once, and what a write says it saw (ids, totals,
//! a group session) is there with its entries.

use yuanjiao::domain::group::GroupSession;
use yuanjiao::domain::lang::Lang;
use yuanjiao::domain::watch::Registration;
use yuanjiao::repo::{
    EntryKind, IdKind, LedgerEntry, LedgerWrite, MemberYear, Repositories, SeenId,
};

fn registration(member: &str, id: &str, at_ms: i64) -> LedgerEntry {
    LedgerEntry {
        at_ms,
        actor: "admin".into(),
        member: member.into(),
        kind: EntryKind::Registration(Registration {
            id: id.into(),
            date: "2026-03-02".into(),
            duration_ms: 60_000,
            reason: "集中学习".into(),
            centralised: true,
            corrects: None,
        }),
    }
}

fn ids(entries: Vec<LedgerEntry>) -> Vec<String> {
    entries
        .into_iter()
        .map(|e| match e.kind {
            EntryKind::Registration(r) => r.id,
            other => panic!("only registrations were written: {other:?}"),
        })
        .collect()
}

fn totals(ms: i64) -> MemberYear {
    MemberYear {
        registered_ms: ms,
        centralised: 1,
        ..MemberYear::default()
    }
}

fn seen(member: &str) -> SeenId {
    SeenId {
        member: member.into(),
        digest: format!("digest of {member}"),
    }
}

/// Several requests' writes applied as one batch: entries in order, ids, totals, session.
pub fn group_commit(repo: &dyn Repositories) {
    let session = GroupSession {
        id: "gs-1".into(),
        station: "st-1".into(),
        org: "branch".into(),
        lesson: "l-1".into(),
        lang: "zh-Hans".parse::<Lang>().unwrap(),
        duration_ms: 600_000,
        opened_ms: 5,
        attendance: vec![],
        playback: None,
    };
    let first = LedgerWrite {
        entries: vec![registration("M1", "g1", 1), registration("M2", "g2", 2)],
        ids: vec![(IdKind::Registration, "g1".into(), seen("M1"))],
        totals: vec![(2026, "M1".into(), totals(60_000))],
        session: None,
        heads: vec![("M1".into(), 0, 11), ("M2".into(), 0, 21)],
    };
    let second = LedgerWrite {
        entries: vec![registration("M1", "g3", 3)],
        ids: vec![(IdKind::Report, "r1".into(), seen("M1"))],
        totals: vec![
            (2026, "M1".into(), totals(120_000)),
            (2025, "M2".into(), totals(1)),
        ],
        session: Some(session.clone()),
        heads: vec![("M1".into(), 11, 12)],
    };
    repo.apply_ledger_writes(&[&first, &second]).unwrap();
    repo.flush().unwrap();

    assert_eq!(ids(repo.member_entries("M1").unwrap()), ["g1", "g3"]);
    assert_eq!(ids(repo.member_entries("M2").unwrap()), ["g2"]);
    assert!(repo.member_entries("M3").unwrap().is_empty());
    assert_eq!(
        ids(repo.ledger_entries().unwrap()),
        ["g1", "g3", "g2"],
        "member by member"
    );

    assert_eq!(
        repo.seen_id(IdKind::Registration, "g1").unwrap(),
        Some(seen("M1"))
    );
    assert_eq!(
        repo.seen_id(IdKind::Report, "r1").unwrap(),
        Some(seen("M1"))
    );
    assert_eq!(
        repo.seen_id(IdKind::Report, "g1").unwrap(),
        None,
        "ids are kept by kind"
    );

    assert_eq!(
        repo.member_year("M1", 2026).unwrap(),
        Some(totals(120_000)),
        "the later write wins"
    );
    assert_eq!(repo.member_year("M1", 2025).unwrap(), None);
    let year: Vec<String> = repo.year_totals(2026).unwrap().into_keys().collect();
    assert_eq!(year, ["M1"]);
    let all: Vec<(i32, String)> = repo.all_totals().unwrap().into_keys().collect();
    assert_eq!(all, [(2025, "M2".to_string()), (2026, "M1".to_string())]);
    assert_eq!(repo.group_session("gs-1").unwrap(), Some(session));
    assert_eq!(repo.group_session("gs-2").unwrap(), None);
    assert_eq!(repo.member_head("M1").unwrap(), 12, "the last write's head");
    assert_eq!(repo.member_head("M2").unwrap(), 21);
}

/// Batches applied from many threads at once lose nothing and keep each member's order.
pub fn concurrent_batches_keep_each_members_order(repo: &dyn Repositories) {
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                let member = format!("M{t}");
                for n in 0..25 {
                    let write = LedgerWrite {
                        entries: vec![registration(&member, &format!("{member}-{n:02}"), n)],
                        totals: vec![(2026, member.clone(), totals(60_000 * (n + 1)))],
                        ..LedgerWrite::default()
                    };
                    repo.apply_ledger_writes(&[&write]).unwrap();
                }
            });
        }
    });
    for t in 0..4 {
        let member = format!("M{t}");
        let expected: Vec<String> = (0..25).map(|n| format!("{member}-{n:02}")).collect();
        assert_eq!(ids(repo.member_entries(&member).unwrap()), expected);
        let year = repo.member_year(&member, 2026).unwrap().unwrap();
        assert_eq!(year.registered_ms, 25 * 60_000, "the last write's totals");
    }
    assert_eq!(repo.ledger_entries().unwrap().len(), 100);
}

fn headed(member: &str, id: &str, from: u64, to: u64) -> LedgerWrite {
    LedgerWrite {
        entries: vec![registration(member, id, to as i64)],
        heads: vec![(member.into(), from, to)],
        ..LedgerWrite::default()
    }
}

/// A write made from a member's state at another head than the member's is refused, with
/// nothing of its batch applied; writes in one batch follow each other's heads.
pub fn stale_heads_are_refused_whole(repo: &dyn Repositories) {
    use yuanjiao::repo::StoreError;
    let stale = |r: &Result<(), StoreError>| matches!(r, Err(StoreError::Stale(_)));
    assert_eq!(repo.member_head("M1").unwrap(), 0);
    repo.apply_ledger_writes(&[&headed("M1", "h0", 0, 7)])
        .unwrap();
    assert_eq!(repo.member_head("M1").unwrap(), 7);
    let old = repo.apply_ledger_writes(&[&headed("M2", "x", 0, 5), &headed("M1", "again", 0, 8)]);
    assert!(stale(&old), "{old:?}");
    assert_eq!(ids(repo.member_entries("M1").unwrap()), ["h0"]);
    assert!(
        repo.member_entries("M2").unwrap().is_empty(),
        "nothing of the batch lands"
    );
    assert_eq!(repo.member_head("M2").unwrap(), 0);

    repo.apply_ledger_writes(&[&headed("M1", "h1", 7, 9), &headed("M1", "h2", 9, 4)])
        .unwrap();
    assert_eq!(
        repo.member_head("M1").unwrap(),
        4,
        "one batch, two writes in turn"
    );
    // Built on a write that never landed: its head never was the member's.
    let unlanded =
        repo.apply_ledger_writes(&[&headed("M1", "h3", 4, 6), &headed("M1", "h4", 5, 3)]);
    assert!(stale(&unlanded), "{unlanded:?}");
    let later = repo.apply_ledger_writes(&[&headed("M1", "h4", 6, 3)]);
    assert!(stale(&later), "{later:?}");
    assert_eq!(ids(repo.member_entries("M1").unwrap()), ["h0", "h1", "h2"]);
}

/// A report id is stored once: a later write naming it again is refused whole.
pub fn an_id_is_stored_once(repo: &dyn Repositories) {
    use yuanjiao::repo::StoreError;
    let with_id = |member: &str, entry: &str| LedgerWrite {
        entries: vec![registration(member, entry, 1)],
        ids: vec![(IdKind::Report, "r-1".into(), seen(member))],
        ..LedgerWrite::default()
    };
    repo.apply_ledger_writes(&[&with_id("M1", "first")])
        .unwrap();
    let again = repo.apply_ledger_writes(&[&with_id("M2", "second")]);
    assert!(matches!(again, Err(StoreError::Stale(_))), "{again:?}");
    assert_eq!(
        repo.seen_id(IdKind::Report, "r-1").unwrap(),
        Some(seen("M1"))
    );
    assert!(repo.member_entries("M2").unwrap().is_empty());
}
