//! Bulk import of members from CSV, as a county has tens of thousands. Every row is checked on
//! its own and reported; a row already imported with the same data is skipped, so re-running an
//! import changes nothing.
//!
//! Columns (a header row is required): `id,name,org,posts,field,joined,languages,pin,home_org`;
//! `posts` and `languages` hold several values separated by `;`; `pin` and `home_org` may be
//! empty (a member without a PIN cannot sign in until one is set).

use crate::domain::lang::Lang;
use crate::domain::org::{check_pin, Member, PeopleError, Post};
use crate::people::{hash_pin, Actor, PeopleOpError};
use crate::repo::{MemberRecord, PeopleWrite};
use crate::services::Services;
use serde::Deserialize;
use std::io::Read;

#[derive(Debug, Deserialize)]
struct Row {
    id: String,
    name: String,
    org: String,
    posts: String,
    field: String,
    joined: String,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    home_org: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub unchanged: usize,
    /// (line number, reason) for every row not imported.
    pub errors: Vec<(u64, String)>,
}

fn list<T: std::str::FromStr>(text: &str, what: &str) -> Result<Vec<T>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("unknown {what} {s:?}")))
        .collect()
}

fn kebab<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_string()))
        .map_err(|_| format!("unknown {what} {:?}", text.trim()))
}

fn member_of(row: &Row) -> Result<(Member, Option<String>), String> {
    let member = Member {
        id: row.id.trim().to_string(),
        name: row.name.trim().to_string(),
        org: row.org.trim().to_string(),
        home_org: Some(row.home_org.trim().to_string()).filter(|h| !h.is_empty()),
        posts: list::<Post>(&row.posts, "post")?,
        field: kebab(&row.field, "field")?,
        joined: row.joined.trim().to_string(),
        languages: list::<Lang>(&row.languages, "language")?,
    };
    member.validate().map_err(|e: PeopleError| e.to_string())?;
    let pin = Some(row.pin.trim().to_string()).filter(|p| !p.is_empty());
    if let Some(pin) = &pin {
        check_pin(pin).map_err(|e| e.to_string())?;
    }
    Ok((member, pin))
}

/// Each row with its line number, parsed and checked on its own: what the file says, before
/// anything is compared with the store.
pub fn rows(
    csv_text: impl Read,
) -> impl Iterator<Item = (u64, Result<(Member, Option<String>), String>)> {
    let reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv_text);
    reader
        .into_deserialize::<Row>()
        .enumerate()
        .map(|(index, result)| {
            let parsed = result
                .map_err(|e| format!("malformed row: {e}"))
                .and_then(|row| member_of(&row));
            (index as u64 + 2, parsed)
        })
}

/// Reads every row, then hashes PINs on every core and stores what is new in one pass.
pub fn import_members(
    services: &Services,
    csv_text: impl Read,
    actor: impl Into<Actor>,
) -> Result<ImportReport, PeopleOpError> {
    let orgs: std::collections::HashSet<String> =
        services.store.orgs()?.into_iter().map(|o| o.id).collect();
    let mut report = ImportReport::default();
    let mut seen = std::collections::HashSet::new();
    let mut new = Vec::new();
    for (line, parsed) in rows(csv_text) {
        let (member, pin) = match parsed {
            Ok(parsed) => parsed,
            Err(reason) => {
                report.errors.push((line, reason));
                continue;
            }
        };
        if let Some(unknown) = member.orgs().find(|o| !orgs.contains(*o)) {
            report
                .errors
                .push((line, format!("no organisation {unknown:?}")));
            continue;
        }
        if !seen.insert(member.id.clone()) {
            report.errors.push((
                line,
                format!("member id {:?} appears twice in this file", member.id),
            ));
            continue;
        }
        match services.store.member(&member.id)? {
            Some(existing) if existing.member == member => report.unchanged += 1,
            Some(_) => report.errors.push((
                line,
                format!(
                    "member {:?} exists with other data; change it through the API",
                    member.id
                ),
            )),
            None => new.push((member, pin)),
        }
    }
    let records = hash_all(new)?;
    report.created = store_new(services, records, &actor.into())?;
    Ok(report)
}

/// Members written at once, each batch with its audit entry in one transaction.
const IMPORT_BATCH: usize = 5_000;

/// Writes the new members under their locks, leaving out any created meanwhile by someone
/// else (their record is theirs, not the file's); returns how many were created.
fn store_new(
    services: &Services,
    records: Vec<MemberRecord>,
    actor: &Actor,
) -> Result<usize, PeopleOpError> {
    let mut created = 0;
    for batch in records.chunks(IMPORT_BATCH) {
        let _held = services
            .locks
            .members(batch.iter().map(|r| r.member.id.as_str()));
        let mut write = PeopleWrite::default();
        for record in batch {
            if services.store.member(&record.member.id)?.is_none() {
                write.members.push(record.clone());
            }
        }
        let ids: Vec<&str> = write.members.iter().map(|r| r.member.id.as_str()).collect();
        write.audit.push(actor.entry(
            services.now_ms(),
            "member.import",
            &format!("{} members", ids.len()),
            serde_json::json!({ "created": ids }),
        ));
        services.store.write_people(&write)?;
        created += write.members.len();
    }
    if records.is_empty() {
        // An import that creates no one is still recorded.
        let mut write = PeopleWrite::default();
        write.audit.push(actor.entry(
            services.now_ms(),
            "member.import",
            "0 members",
            serde_json::json!({ "created": [] }),
        ));
        services.store.write_people(&write)?;
    }
    services.store.flush().map_err(PeopleOpError::Store)?;
    Ok(created)
}

/// Argon2 is slow on purpose: spread the PINs over every core.
fn hash_all(rows: Vec<(Member, Option<String>)>) -> Result<Vec<MemberRecord>, PeopleOpError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = rows
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(member, pin)| {
                            Ok(MemberRecord {
                                member: member.clone(),
                                pin_hash: pin
                                    .as_deref()
                                    .map(hash_pin)
                                    .transpose()?
                                    .unwrap_or_default(),
                                failed_sign_ins: 0,
                                locked_until_ms: 0,
                                disabled: false,
                            })
                        })
                        .collect::<Result<Vec<_>, PeopleOpError>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(rows.len());
        for worker in workers {
            let part = worker
                .join()
                .map_err(|_| PeopleOpError::Hash("a hashing thread failed".into()))??;
            all.extend(part);
        }
        Ok(all)
    })
}
