//! People, tokens and the audit log: a people write lands with its audit entries, tokens are
//! found by their owner, and the log is numbered from 1 and read in pages.

use serde_json::json;
use yuanjiao::domain::org::{Member, Org, Principal};
use yuanjiao::repo::{AuditEntry, MemberRecord, PeopleWrite, Repositories, Terminal, TokenRecord};

fn org(id: &str, parent: Option<&str>) -> Org {
    serde_json::from_value(json!({
        "id": id, "name": format!("组织 {id}"),
        "kind": if parent.is_some() { "branch" } else { "committee" },
        "parent": parent,
    }))
    .unwrap()
}

fn member(id: &str) -> MemberRecord {
    let member: Member = serde_json::from_value(json!({
        "id": id, "name": format!("党员 {id}"), "org": "branch", "posts": ["member"],
        "field": "rural", "joined": "2020-07-01", "languages": ["zh-Hans"],
    }))
    .unwrap();
    MemberRecord {
        member,
        pin_hash: "$argon2id$…".into(),
        failed_sign_ins: 0,
        locked_until_ms: 0,
        disabled: false,
    }
}

fn terminal(id: &str) -> Terminal {
    Terminal {
        id: id.into(),
        name: format!("站点 {id}"),
        org: "branch".into(),
        languages: vec!["zh-Hans".parse().unwrap()],
        audiences: vec![],
        disabled: false,
    }
}

fn token(principal: Principal) -> TokenRecord {
    TokenRecord {
        principal,
        created_ms: 1,
        expires_ms: None,
        revoked: false,
        label: "sign-in".into(),
        last_used_day: None,
    }
}

fn entry(action: &str) -> AuditEntry {
    AuditEntry {
        at_ms: 1,
        actor: "admin".into(),
        token: None,
        action: action.into(),
        subject: "s".into(),
        detail: json!({}),
    }
}

/// Organisations, members and stations read back; the directory follows every write.
pub fn people(repo: &dyn Repositories) {
    repo.put_org(&org("county", None)).unwrap();
    assert_eq!(repo.org_directory().unwrap().orgs.len(), 1);
    repo.write_people(&PeopleWrite {
        orgs: vec![org("branch", Some("county"))],
        members: vec![member("M2"), member("M1")],
        terminals: vec![terminal("st-1")],
        tokens: vec![],
        audit: vec![entry("org.create"), entry("member.create")],
    })
    .unwrap();
    assert_eq!(
        repo.org("branch").unwrap(),
        Some(org("branch", Some("county")))
    );
    let orgs: Vec<String> = repo.orgs().unwrap().into_iter().map(|o| o.id).collect();
    assert_eq!(orgs, ["branch", "county"], "in id order");
    let directory = repo.org_directory().unwrap();
    assert_eq!(
        directory.orgs.len(),
        2,
        "the directory is read again after a write"
    );
    assert!(repo.org_tree().unwrap().within("branch", "county"));
    let members: Vec<String> = repo
        .members()
        .unwrap()
        .into_iter()
        .map(|m| m.member.id)
        .collect();
    assert_eq!(members, ["M1", "M2"]);
    let mut locked = member("M1");
    locked.failed_sign_ins = 5;
    repo.put_member(&locked).unwrap();
    assert_eq!(repo.member("M1").unwrap(), Some(locked));
    assert_eq!(repo.member("M9").unwrap(), None);
    assert_eq!(repo.terminal("st-1").unwrap(), Some(terminal("st-1")));
    repo.put_terminal(&terminal("st-2")).unwrap();
    assert_eq!(repo.terminals().unwrap().len(), 2);
    let actions: Vec<String> = repo
        .audit_log(0, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.1.action)
        .collect();
    assert_eq!(
        actions,
        ["org.create", "member.create"],
        "the write's audit entries with it"
    );
}

/// The audit log is numbered from 1, in order, and read in pages after a position.
pub fn audit(repo: &dyn Repositories) {
    for n in 0..5 {
        repo.audit(&entry(&format!("a{n}"))).unwrap();
    }
    let all = repo.audit_log(0, 10).unwrap();
    assert_eq!(all.len(), 5);
    assert!(all[0].0 >= 1, "0 means the start, so no entry has it");
    assert!(
        all.windows(2).all(|w| w[0].0 < w[1].0),
        "increasing positions"
    );
    let page = repo.audit_log(all[1].0, 2).unwrap();
    let actions: Vec<String> = page.into_iter().map(|e| e.1.action).collect();
    assert_eq!(actions, ["a2", "a3"]);
}

/// Tokens: by hash, by owner, in pages, by prefix; a use is recorded once a day, never over a
/// revocation.
pub fn tokens(repo: &dyn Repositories) {
    let member = Principal::Member {
        member: "M1".into(),
    };
    let hashes: Vec<[u8; 32]> = (1..=4u8).map(|n| [n; 32]).collect();
    repo.write_people(&PeopleWrite {
        tokens: vec![
            (hashes[0], token(member.clone())),
            (hashes[1], token(member.clone())),
            (hashes[2], token(Principal::Admin)),
        ],
        ..PeopleWrite::default()
    })
    .unwrap();
    repo.put_token(&hashes[3], &token(Principal::Editor))
        .unwrap();
    let mut mine = repo.tokens_of(&member).unwrap();
    mine.sort();
    assert_eq!(mine, [hashes[0], hashes[1]]);
    assert!(repo
        .tokens_of(&Principal::Member {
            member: "M2".into()
        })
        .unwrap()
        .is_empty());

    repo.touch_token(&hashes[0], 20_000).unwrap();
    assert_eq!(
        repo.token(&hashes[0]).unwrap().unwrap().last_used_day,
        Some(20_000)
    );
    let mut revoked = token(member.clone());
    revoked.revoked = true;
    repo.put_token(&hashes[1], &revoked).unwrap();
    repo.touch_token(&hashes[1], 20_001).unwrap();
    assert_eq!(
        repo.token(&hashes[1]).unwrap(),
        Some(revoked),
        "a revocation wins"
    );
    repo.touch_token(&[9; 32], 1).unwrap();
    assert_eq!(
        repo.token(&[9; 32]).unwrap(),
        None,
        "touching an unknown token makes none"
    );

    let first: Vec<[u8; 32]> = repo
        .tokens(None, 2)
        .unwrap()
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert_eq!(first, [hashes[0], hashes[1]], "in hash order");
    let next: Vec<[u8; 32]> = repo
        .tokens(Some(hashes[1]), 10)
        .unwrap()
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert_eq!(next, [hashes[2], hashes[3]]);
    let prefixed = repo.tokens_with_prefix(&[3, 3]).unwrap();
    assert_eq!(prefixed.len(), 1);
    assert_eq!(prefixed[0].1.principal, Principal::Admin);
}
