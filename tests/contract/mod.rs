//! The repositories' contract: one suite per trait, written once against `dyn Repositories` and
//! run on every implementation (tests/contract_sled.rs runs them on sled). What the use cases
//! rely on is said here: the ledger's group commit and its invariants, the job claim, the
//! catalogue's change sequence, the people write with its audit entries.

pub mod ledger;
pub mod people;

use serde_json::json;
use yuanjiao::domain::catalog::Course;
use yuanjiao::domain::digest::Sha256;
use yuanjiao::domain::media::Probe;
use yuanjiao::domain::upload::{Upload, UploadState};
use yuanjiao::repo::{BlobMeta, CourseEntry, DeliveredTo, Job, JobStatus, Repositories};

pub fn digest(bytes: &[u8]) -> Sha256 {
    use sha2::Digest as _;
    Sha256::from_bytes(sha2::Sha256::digest(bytes).into())
}

fn sha(n: u8) -> Sha256 {
    digest(&[n])
}

pub fn course(id: &str, version: u32, state: &str) -> Course {
    serde_json::from_value(json!({
        "id": id, "version": version, "state": state,
        "title": {"zh-Hans": format!("课程 {id}")}, "description": {},
        "themes": [], "audiences": [], "programs": [], "lessons": [],
    }))
    .expect("a course")
}

/// Jobs: a claim takes one queued job and counts the attempt; a job is claimed by one claimer
/// only, however many claim at once; a restart puts interrupted jobs back or fails them.
pub fn job_queue(repo: &dyn Repositories) {
    assert_eq!(
        repo.claim_job().unwrap(),
        None,
        "nothing queued, nothing claimed"
    );
    for n in 0..40 {
        repo.put_job(&sha(n), &Job::queued()).unwrap();
    }
    assert_eq!(repo.queued_jobs().unwrap(), 40);
    let claimed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while let Some((source, job)) = repo.claim_job().unwrap() {
                    assert_eq!((job.status, job.attempts), (JobStatus::Processing, 1));
                    claimed.lock().unwrap().push(source);
                }
            });
        }
    });
    let mut claimed = claimed.into_inner().unwrap();
    claimed.sort_by_key(|s| s.to_hex());
    claimed.dedup();
    assert_eq!(claimed.len(), 40, "every job claimed exactly once");
    assert_eq!(repo.queued_jobs().unwrap(), 0);

    let mut spent = repo.job(&sha(0)).unwrap().unwrap();
    spent.attempts = 3;
    repo.put_job(&sha(0), &spent).unwrap();
    let (requeued, failed) = repo.requeue_interrupted_jobs(3).unwrap();
    assert_eq!((requeued, failed), (39, 1));
    let failed = repo.job(&sha(0)).unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(failed.error.is_some(), "a failed job says why");
    assert_eq!(
        repo.job(&sha(1)).unwrap().unwrap().status,
        JobStatus::Queued
    );
    assert_eq!(repo.job(&sha(99)).unwrap(), None);
}

/// Assets: a probe reads back; the files made from a source are replaced as a whole.
pub fn assets(repo: &dyn Repositories) {
    let probe: Probe = serde_json::from_value(json!({
        "container": "mp4", "duration_ms": 1000, "streams": [], "readable_ms": 1000,
    }))
    .unwrap();
    assert_eq!(repo.probe(&sha(1)).unwrap(), None);
    repo.put_probe(&sha(1), &probe).unwrap();
    assert_eq!(repo.probe(&sha(1)).unwrap(), Some(probe));

    let files = |names: &[&str]| -> Vec<(String, Sha256)> {
        names
            .iter()
            .map(|n| (n.to_string(), digest(n.as_bytes())))
            .collect()
    };
    repo.set_derived(&sha(1), &files(&["b/240p.mp4", "a/thumb.jpg"]))
        .unwrap();
    repo.set_derived(&sha(1), &files(&["hls/master.m3u8", "b/240p.mp4"]))
        .unwrap();
    let made: Vec<String> = repo
        .derived_files(&sha(1))
        .unwrap()
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(
        made,
        ["b/240p.mp4", "hls/master.m3u8"],
        "replaced, in path order"
    );
    assert_eq!(
        repo.derived(&sha(1), "b/240p.mp4").unwrap(),
        Some(digest(b"b/240p.mp4"))
    );
    assert_eq!(repo.derived(&sha(1), "a/thumb.jpg").unwrap(), None);
    assert!(repo.derived_files(&sha(2)).unwrap().is_empty());
}

/// Blob metadata: the first record of a blob stays; later ones are refused, not merged.
pub fn blob_meta(repo: &dyn Repositories) {
    let meta = |name: &str| BlobMeta {
        size: 3,
        mime: "text/plain".into(),
        filename: name.into(),
        created_ms: 7,
    };
    assert_eq!(repo.blob_count().unwrap(), 0);
    assert!(repo.insert_blob_meta(&sha(1), &meta("first.txt")).unwrap());
    assert!(!repo.insert_blob_meta(&sha(1), &meta("second.txt")).unwrap());
    assert_eq!(repo.blob_meta(&sha(1)).unwrap(), Some(meta("first.txt")));
    assert_eq!(repo.blob_count().unwrap(), 1);
}

/// The catalogue: every change stations must hear of takes the next sequence number, one
/// each even when saved at once; a published version is frozen; lesson ids are claimed.
pub fn catalog(repo: &dyn Repositories) {
    assert_eq!(repo.catalog_seq().unwrap(), 0);
    let entry = |id: &str, seq: u64| CourseEntry {
        draft: Some(course(id, 1, "draft")),
        published: None,
        changed_seq: seq,
    };
    repo.save_draft(&entry("c-b", 0), &["l-1".into(), "l-2".into()])
        .unwrap();
    repo.save_draft(&entry("c-a", 0), &[]).unwrap();
    assert_eq!(repo.lesson_course("l-2").unwrap().as_deref(), Some("c-b"));
    assert_eq!(repo.lesson_course("l-9").unwrap(), None);
    let ids: Vec<String> = repo
        .course_entries()
        .unwrap()
        .iter()
        .map(|e| e.id().to_string())
        .collect();
    assert_eq!(ids, ["c-a", "c-b"], "in id order");
    assert_eq!(
        repo.catalog_seq().unwrap(),
        0,
        "drafts are not changes stations hear of"
    );

    let published = course("c-a", 1, "published");
    let seqs = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for n in 0..8 {
            let (seqs, published) = (&seqs, &published);
            s.spawn(move || {
                let entry = CourseEntry {
                    draft: None,
                    published: Some(published.clone()),
                    changed_seq: 0,
                };
                let frozen = (n == 0).then_some(published);
                let seq = repo.save_change(&entry, frozen).unwrap();
                seqs.lock().unwrap().push(seq);
            });
        }
    });
    let mut seqs = seqs.into_inner().unwrap();
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=8).collect::<Vec<u64>>(),
        "one number each, none skipped"
    );
    assert_eq!(repo.catalog_seq().unwrap(), 8);
    let stored = repo.course_entry("c-a").unwrap().unwrap();
    assert!(
        stored.changed_seq >= 1,
        "the entry carries its change's number"
    );
    assert_eq!(repo.course_version("c-a", 1).unwrap(), Some(published));
    assert_eq!(repo.course_version("c-a", 2).unwrap(), None);
}

/// Uploads: kept by id until removed.
pub fn uploads(repo: &dyn Repositories) {
    let upload = |id: &str| Upload {
        id: id.into(),
        owner: "editor".into(),
        length: Some(10),
        offset: 4,
        metadata: Default::default(),
        created_ms: 1,
        expires_ms: 2,
        state: UploadState::Receiving,
        attach: None,
        verify_attempts: 0,
    };
    repo.put_upload(&upload("u1")).unwrap();
    repo.put_upload(&upload("u2")).unwrap();
    assert_eq!(repo.upload("u1").unwrap(), Some(upload("u1")));
    assert_eq!(repo.uploads().unwrap().len(), 2);
    repo.remove_upload("u1").unwrap();
    assert_eq!(repo.upload("u1").unwrap(), None);
    assert_eq!(repo.uploads().unwrap(), [upload("u2")]);
}

/// Deliveries: known per session or station and source; the oldest sessions' are pruned.
pub fn deliveries(repo: &dyn Repositories) {
    let session = |issued_ms: u64, nonce: u8| {
        let mut head = [nonce; 16];
        head[..8].copy_from_slice(&issued_ms.to_be_bytes());
        DeliveredTo::Session(head)
    };
    let station = DeliveredTo::Station("st-1".into());
    for to in [session(100, 1), session(200, 2), station.clone()] {
        repo.record_delivery(&to, &sha(1)).unwrap();
    }
    assert!(repo.was_delivered(&session(100, 1), &sha(1)).unwrap());
    assert!(!repo.was_delivered(&session(100, 1), &sha(2)).unwrap());
    assert!(repo.was_delivered(&station, &sha(1)).unwrap());
    assert_eq!(repo.prune_deliveries(150).unwrap(), 1);
    assert!(!repo.was_delivered(&session(100, 1), &sha(1)).unwrap());
    assert!(repo.was_delivered(&session(200, 2), &sha(1)).unwrap());
    assert!(
        repo.was_delivered(&station, &sha(1)).unwrap(),
        "stations are not pruned"
    );
}

/// Rejection counts add up per member and year.
pub fn rejections(repo: &dyn Repositories) {
    repo.count_rejections(2026, "M1", (2, 1)).unwrap();
    repo.count_rejections(2026, "M1", (1, 0)).unwrap();
    repo.count_rejections(2025, "M2", (5, 5)).unwrap();
    let year = repo.rejections(2026).unwrap();
    assert_eq!(
        year.into_iter().collect::<Vec<_>>(),
        [("M1".to_string(), (3, 1))]
    );
}

/// A secret is made once and then kept; each name has its own.
pub fn secrets(repo: &dyn Repositories) {
    let first = repo.secret("grants").unwrap();
    assert_eq!(repo.secret("grants").unwrap(), first);
    assert_ne!(repo.secret("sessions").unwrap(), first);
}
