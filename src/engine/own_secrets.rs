//! SCIM secrets the wizard created in Orchidea, from create to revoke.
//!
//! Each create is remembered in the run state before it is sent (id only,
//! never the value, with a unique description). Once Entra holds a new
//! secret and Test Connection passed with it, the wizard's other secrets for
//! that workspace are revoked; a failed revoke is a warning and is tried
//! again next run. Secrets someone else created are listed, never revoked
//! (the admin does that in Orchidea's web UI).

use super::config::SecretSource;
use super::error::EngineError;
use super::facts::Facts;
use super::handle::Engine;
use super::remembered::{CreatedScimSecret, SecretUse};
use crate::services::orchidea::{CreatedSecret, OrchideaAdmin, OrchideaError, SecretInfo};

/// The workspace, Graph and tenant a record must match to be this run's.
pub(super) struct Scope<'a> {
    scim_url: &'a str,
    graph_url: String,
    tenant_id: Option<&'a str>,
}

impl<'a> Scope<'a> {
    pub(super) fn new(engine: &'a Engine, scim_url: &'a str) -> Self {
        Scope {
            scim_url,
            graph_url: engine.cfg.graph.base().as_str().to_string(),
            tenant_id: engine.cfg.tenant_id.as_deref(),
        }
    }

    pub(super) fn holds(&self, r: &CreatedScimSecret) -> bool {
        r.belongs_to(self.scim_url, &self.graph_url, self.tenant_id)
    }
}

/// The create may have landed though its answer did not arrive.
pub(in crate::engine) fn answer_may_be_lost(e: &OrchideaError) -> bool {
    match e {
        OrchideaError::Transport { .. } => true,
        OrchideaError::Api { status, .. } => *status >= 500,
        OrchideaError::UnexpectedResponse { status, .. } => *status >= 500 || *status < 300,
        _ => false,
    }
}

/// Creates a SCIM secret for `scim_url`'s workspace, remembered before it is
/// sent. When the answer is lost, Orchidea's list is searched for the
/// description: a secret found there is unusable (its value never arrived)
/// and is revoked, then the create is sent once more.
pub(super) async fn create(
    engine: &Engine,
    facts: &mut Facts,
    admin: &dyn OrchideaAdmin,
    idp_id: &str,
    scim_url: &str,
) -> Result<CreatedSecret, EngineError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let scope = Scope::new(engine, scim_url);
        let record = CreatedScimSecret::attempt(scim_url, &scope.graph_url, scope.tenant_id);
        let description = record.description.clone();
        facts.created_secrets.push(record);
        engine.save_run_state(facts);
        let result = admin
            .create_described_scim_secret(idp_id, &description)
            .await;
        let error = match result {
            Ok(created) => {
                if let Some(r) = by_description(facts, &description) {
                    r.id = Some(created.id.clone());
                    r.created_at.clone_from(&created.created_at);
                    r.last4 = Some(created.secret.last4());
                    r.expires_at.clone_from(&created.expires_at);
                }
                facts.new_secret = Some((created.id.clone(), false));
                engine.save_run_state(facts);
                return Ok(created);
            }
            Err(e) if answer_may_be_lost(&e) => e,
            Err(e) => {
                // A definite refusal: nothing was created.
                facts
                    .created_secrets
                    .retain(|r| r.description != description);
                engine.save_run_state(facts);
                return Err(e.into());
            }
        };
        tracing::warn!("creating a SCIM secret: {error}; looking for it before creating again");
        let lines = settle(engine, facts, admin, scim_url, None).await;
        facts.warnings.extend(
            lines
                .into_iter()
                .map(|l| format!("Creating a SCIM secret, the answer was lost ({error}). {l}")),
        );
        if attempt >= 2 {
            return Err(error.into());
        }
    }
}

fn by_description<'a>(
    facts: &'a mut Facts,
    description: &str,
) -> Option<&'a mut CreatedScimSecret> {
    facts
        .created_secrets
        .iter_mut()
        .find(|r| r.description == description)
}

/// A PUT to Entra is about to carry this run's new secret: from now on
/// Entra may hold it, so it is not revoked unless another one replaces it.
pub(super) fn sending(engine: &Engine, facts: &mut Facts) {
    let Some((id, _)) = facts.new_secret.clone() else {
        return;
    };
    if let Some(r) = facts
        .created_secrets
        .iter_mut()
        .find(|r| r.id.as_deref() == Some(&id))
    {
        r.state = SecretUse::Sent;
        engine.save_run_state(facts);
    }
}

/// After Entra saved the credentials for `scim_url`: revokes the wizard's
/// secrets it no longer holds when Test Connection passed with the new
/// one; otherwise says why nothing was revoked. `entra_had_it` is true when
/// nothing was saved because Entra already held a working secret. Returns
/// the sentences for the step's detail.
pub(super) async fn after_save(
    engine: &Engine,
    facts: &mut Facts,
    scim_url: &str,
    entra_had_it: bool,
) -> Vec<String> {
    match &engine.cfg.secret_source {
        SecretSource::AdminApi { admin, .. } => {
            let admin = admin.clone();
            match (entra_had_it, facts.new_secret.clone()) {
                (false, Some((id, true))) => {
                    settle(engine, facts, admin.as_ref(), scim_url, Some(&id)).await
                }
                (false, Some((_, false))) => {
                    vec!["The wizard's earlier SCIM secrets were not revoked: Test Connection did not pass with the new one.".into()]
                }
                // Entra's working secret is not this run's: only secrets
                // that never reached Entra, or that it replaced, go.
                _ => settle(engine, facts, admin.as_ref(), scim_url, None).await,
            }
        }
        SecretSource::Manual(_) if !entra_had_it => manual_lines(engine, facts, scim_url),
        _ => Vec::new(),
    }
}

/// The manual path cannot revoke: it names what to revoke in Orchidea's web UI.
fn manual_lines(engine: &Engine, facts: &mut Facts, scim_url: &str) -> Vec<String> {
    let scope = Scope::new(engine, scim_url);
    let ids: Vec<String> = facts
        .created_secrets
        .iter_mut()
        .filter(|r| scope.holds(r))
        .map(|r| {
            r.state = SecretUse::Replaced;
            r.describe()
        })
        .collect();
    let mut lines = vec!["If Entra held another Orchidea SCIM secret before, revoke it in Orchidea's web UI (workspace admin → User management → SCIM); without the admin API the wizard cannot tell which one it was and revokes nothing.".to_string()];
    if !ids.is_empty() {
        lines.push(format!(
            "Secrets this wizard created earlier that Entra no longer holds, to revoke there: {}.",
            ids.join(", ")
        ));
    }
    lines
}

/// Revokes the wizard's secrets for this workspace that Entra does not
/// hold. With `current` (saved in Entra and tested), every other one goes
/// and secrets made by others are listed; without it, only those that
/// never reached Entra or were replaced there. Lost creates are matched
/// by description first.
pub(super) async fn settle(
    engine: &Engine,
    facts: &mut Facts,
    admin: &dyn OrchideaAdmin,
    scim_url: &str,
    current: Option<&str>,
) -> Vec<String> {
    let scope = Scope::new(engine, scim_url);
    for r in facts.created_secrets.iter_mut().filter(|r| scope.holds(r)) {
        match (current, r.id.as_deref()) {
            (Some(c), Some(id)) if c == id => r.state = SecretUse::Sent,
            (Some(_), _) => r.state = SecretUse::Replaced,
            (None, _) => {}
        }
    }
    let mut lines = Vec::new();
    let pending = facts
        .created_secrets
        .iter()
        .any(|r| scope.holds(r) && r.id.is_none());
    let listed = if pending || current.is_some() {
        match admin.list_scim_secrets().await {
            Ok(list) => Some(list),
            Err(e) => {
                lines.push(format!(
                    "Orchidea's list of SCIM secrets could not be read ({e})."
                ));
                None
            }
        }
    } else {
        None
    };
    if let Some(list) = &listed {
        lines.extend(match_lost(facts, &scope, list));
    }
    // Listed before revoking, while the records still name every one of ours.
    let not_ours = match (current, &listed) {
        (Some(current), Some(list)) => others(facts, list, current),
        _ => Vec::new(),
    };
    let due: Vec<CreatedScimSecret> = facts
        .created_secrets
        .iter()
        .filter(|r| scope.holds(r) && r.id.is_some())
        .filter(|r| r.id.as_deref() != current)
        .filter(|r| matches!(r.state, SecretUse::Created | SecretUse::Replaced))
        .cloned()
        .collect();
    for r in due {
        let id = r.id.clone().unwrap_or_default();
        match admin.revoke_scim_secret(&id).await {
            Ok(()) | Err(OrchideaError::SecretNotFound { .. }) => {
                facts
                    .created_secrets
                    .retain(|x| x.id.as_deref() != Some(&id));
                lines.push(format!(
                    "Revoked SCIM secret {} that Entra does not hold.",
                    r.describe()
                ));
                facts.changes.push(format!(
                    "Orchidea: revoked SCIM secret {}, created by this wizard and no longer held by Entra.",
                    r.describe()
                ));
            }
            Err(e) => {
                let text = format!(
                    "SCIM secret {} was not revoked ({e}); the wizard tries again on the next run, or revoke it in Orchidea's web UI.",
                    r.describe()
                );
                lines.push(text.clone());
                if !facts.warnings.contains(&text) {
                    facts.warnings.push(text);
                }
            }
        }
    }
    lines.extend(not_ours);
    engine.save_run_state(facts);
    lines
}

/// Gives lost creates their ids from Orchidea's list; a lost create the
/// list does not show is forgotten with a sentence saying what to check.
fn match_lost(facts: &mut Facts, scope: &Scope<'_>, list: &[SecretInfo]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut gone = Vec::new();
    for r in facts
        .created_secrets
        .iter_mut()
        .filter(|r| scope.holds(r) && r.id.is_none())
    {
        if let Some(found) = list
            .iter()
            .find(|s| s.description.as_deref() == Some(&r.description))
        {
            r.id = Some(found.id.clone());
            r.created_at.clone_from(&found.created_at);
            r.last4 = Some(found.last4.clone());
            r.expires_at.clone_from(&found.expires_at);
            // Its value never arrived: it cannot be in Entra.
            r.state = SecretUse::Created;
        } else {
            gone.push(r.description.clone());
            lines.push(format!(
                "Orchidea lists no secret with the description the wizard gave {}: the create did not land, or this Orchidea keeps no descriptions; if its web UI shows a secret created then, revoke it there.",
                r.describe()
            ));
        }
    }
    facts
        .created_secrets
        .retain(|r| !gone.contains(&r.description));
    lines
}

/// Live secrets someone else created: listed, left alone.
fn others(facts: &Facts, list: &[SecretInfo], current: &str) -> Vec<String> {
    let ours = |id: &str| {
        facts
            .created_secrets
            .iter()
            .any(|r| r.id.as_deref() == Some(id))
    };
    list.iter()
        .filter(|s| !s.revoked && s.id != current && !ours(&s.id))
        .map(|s| {
            format!(
                "Not revoked (not created by this wizard): SCIM secret {} (…{}, created {}); if nothing else uses it, revoke it in Orchidea's web UI.",
                s.id,
                s.last4,
                crate::platform::timefmt::readable(&s.created_at)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_answer_that_may_have_landed_is_looked_up() {
        let api = |status| OrchideaError::Api {
            status,
            code: "x".into(),
            message: String::new(),
        };
        let odd = |status| OrchideaError::UnexpectedResponse {
            status,
            detail: String::new(),
        };
        assert!(answer_may_be_lost(&OrchideaError::Transport {
            url: "u".into(),
            detail: "reset".into()
        }));
        assert!(answer_may_be_lost(&api(504)) && answer_may_be_lost(&api(500)));
        assert!(answer_may_be_lost(&odd(201)), "created, body unreadable");
        assert!(!answer_may_be_lost(&api(400)) && !answer_may_be_lost(&api(429)));
        assert!(!answer_may_be_lost(&OrchideaError::TokenRejected));
        assert!(!answer_may_be_lost(&odd(404)));
    }
}
