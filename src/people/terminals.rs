//! Stations: registered with their first token, changed, disabled and enabled, and given a new
//! token that replaces the old; each under the station's lock and written with its audit
//! entries in one transaction.

use super::{commit, Actor, PeopleHost, PeopleOpError};
use crate::domain::catalog::Audience;
use crate::domain::lang::Lang;
use crate::domain::org::{check_id, PeopleError, Principal};
use crate::repo::{PeopleWrite, Terminal};

fn principal_of(terminal: &Terminal) -> Principal {
    Principal::Terminal {
        station: terminal.id.clone(),
        org: terminal.org.clone(),
    }
}

fn token_for(
    services: &impl PeopleHost,
    terminal: &Terminal,
    actor: &Actor,
) -> crate::tokens::Issued {
    let label = format!("station {}", terminal.id);
    crate::tokens::prepare(
        services.infra(),
        principal_of(terminal),
        None,
        &label,
        actor,
    )
}

/// Registers a station of an existing organisation and returns its token (shown once).
pub fn create_terminal(
    services: &impl PeopleHost,
    terminal: &Terminal,
    actor: impl Into<Actor>,
) -> Result<String, PeopleOpError> {
    let actor = actor.into();
    check_id("station id", &terminal.id)?;
    if terminal.name.trim().is_empty() {
        return Err(PeopleError::NoName.into());
    }
    if services.infra().store.org(&terminal.org)?.is_none() {
        return Err(PeopleOpError::UnknownOrg(terminal.org.clone()));
    }
    let _held = services.locks().terminal(&terminal.id);
    if services.infra().store.terminal(&terminal.id)?.is_some() {
        return Err(PeopleOpError::Exists(format!("station {:?}", terminal.id)));
    }
    // A station is registered to be used: it starts enabled, with its token.
    let terminal = Terminal {
        disabled: false,
        ..terminal.clone()
    };
    let mut write = PeopleWrite::default();
    write.audit.push(actor.entry(
        services.infra().now_ms(),
        "terminal.create",
        &terminal.id,
        serde_json::json!({ "after": terminal }),
    ));
    let token = token_for(services, &terminal, &actor).add_to(&mut write);
    write.terminals.push(terminal);
    commit(services, &write)?;
    Ok(token)
}

/// Changes to a station; absent fields stay as they are. A station keeps its organisation:
/// register a new one to move it, so its crediting history stays with the old one.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalChange {
    pub name: Option<String>,
    pub languages: Option<Vec<Lang>>,
    pub audiences: Option<Vec<Audience>>,
    /// `true` revokes the station's tokens and refuses new ones until it is `false` again.
    pub disabled: Option<bool>,
}

pub fn change_terminal(
    services: &impl PeopleHost,
    id: &str,
    change: &TerminalChange,
    actor: impl Into<Actor>,
) -> Result<Terminal, PeopleOpError> {
    let actor = actor.into();
    let _held = services.locks().terminal(id);
    let mut terminal = services
        .infra()
        .store
        .terminal(id)?
        .ok_or_else(|| PeopleOpError::NotFound(format!("station {id:?}")))?;
    let before = terminal.clone();
    if let Some(name) = &change.name {
        if name.trim().is_empty() {
            return Err(PeopleError::NoName.into());
        }
        terminal.name = name.clone();
    }
    if let Some(languages) = &change.languages {
        terminal.languages = languages.clone();
    }
    if let Some(audiences) = &change.audiences {
        terminal.audiences = audiences.clone();
    }
    if let Some(disabled) = change.disabled {
        terminal.disabled = disabled;
    }
    let mut write = PeopleWrite::default();
    if terminal.disabled && !before.disabled {
        let hashes = services.infra().store.tokens_of(&principal_of(&terminal))?;
        crate::tokens::revoke_into(
            services.infra(),
            &hashes,
            &actor,
            "station disabled",
            &mut write,
        )?;
    }
    write.audit.push(actor.entry(
        services.infra().now_ms(),
        "terminal.update",
        id,
        serde_json::json!({ "before": before, "after": terminal }),
    ));
    write.terminals.push(terminal.clone());
    commit(services, &write)?;
    Ok(terminal)
}

/// A new token for a station, every earlier one revoked in the same transaction: a lost or
/// stolen device stops crediting the moment its replacement is set up.
pub fn rotate_terminal_token(
    services: &impl PeopleHost,
    id: &str,
    actor: impl Into<Actor>,
) -> Result<String, PeopleOpError> {
    let actor = actor.into();
    let _held = services.locks().terminal(id);
    let terminal = services
        .infra()
        .store
        .terminal(id)?
        .ok_or_else(|| PeopleOpError::NotFound(format!("station {id:?}")))?;
    if terminal.disabled {
        return Err(PeopleOpError::Disabled(format!("station {id:?}")));
    }
    let mut write = PeopleWrite::default();
    let hashes = services.infra().store.tokens_of(&principal_of(&terminal))?;
    crate::tokens::revoke_into(services.infra(), &hashes, &actor, "rotated", &mut write)?;
    let token = token_for(services, &terminal, &actor).add_to(&mut write);
    commit(services, &write)?;
    Ok(token)
}
