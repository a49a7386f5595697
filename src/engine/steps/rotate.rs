//! Rotation's six stages (`engine/rotate.rs` explains them), on the
//! helpers of the secret and credentials groups. Everything that can be
//! refused is checked before the new secret exists; each stage that fails
//! stops with what still holds.

use super::credentials::{Tested, validate};
use super::discover::discover;
use super::saved::{
    backup_settings, current_secrets, merged_secrets, put_secrets, same_url, saved_plain,
    unread_note,
};
use super::{graph, job_ids};
use crate::engine::config::SecretSource;
use crate::engine::error::EngineError;
use crate::engine::facts::{Facts, Reads, ScimTarget};
use crate::engine::handle::Engine;
use crate::engine::own_secrets;
use crate::engine::remembered::HeldSecret;
use crate::engine::rotate::{
    NewSecret, OldPick, OldSecret, RotateOptions, RotateOutcome, RotateStage, describe_info,
    pick_old,
};
use crate::platform::secret::Secret;
use crate::services::graph::secret_keys::SYNC_ALL;
use crate::services::orchidea::{OrchideaAdmin, SecretInfo, pick_idp};
use crate::services::probe;

/// Reports each finished stage as it happens (the CLI prints it).
pub type OnStage<'a> = &'a (dyn Fn(RotateStage, &str) + Send + Sync);

fn stopped(stage: RotateStage, cause: EngineError) -> EngineError {
    EngineError::RotateStopped {
        number: stage.number(),
        title: stage.title(),
        after: stage.after_failure(),
        cause: Box::new(cause),
    }
}

fn nothing_to_rotate(why: &str) -> EngineError {
    EngineError::Input(format!(
        "Nothing to rotate: {why}. Run the setup first; rotation replaces a secret Entra already holds."
    ))
}

/// What is known before anything is written.
struct Before {
    app: String,
    job: String,
    url: String,
    held: Option<HeldSecret>,
    admin: Option<std::sync::Arc<dyn OrchideaAdmin>>,
    /// Orchidea's secrets before the new one exists (admin API only).
    live: Vec<SecretInfo>,
    old: OldPick,
}

pub(in crate::engine) async fn rotate(
    engine: &Engine,
    facts: &mut Facts,
    opts: &RotateOptions,
    on_stage: OnStage<'_>,
) -> Result<RotateOutcome, EngineError> {
    let before = read_before(engine, facts, opts).await?;
    let mut outcome = RotateOutcome {
        lines: Vec::new(),
        new_secret: String::new(),
        old: OldSecret::None,
        warnings: Vec::new(),
    };
    let done = |outcome: &mut RotateOutcome, stage: RotateStage, line: String| {
        on_stage(stage, &line);
        outcome.lines.push((stage, line));
    };

    // 1. The new secret.
    let (secret, new_id) = new_secret(engine, facts, opts, &before)
        .await
        .map_err(|e| stopped(RotateStage::NewSecret, e))?;
    outcome.new_secret = match &new_id {
        Some(id) => format!("{id} ({})", secret.masked()),
        None => secret.masked(),
    };
    done(
        &mut outcome,
        RotateStage::NewSecret,
        match &new_id {
            Some(id) => format!("Created SCIM secret {} (id {id}).", secret.masked()),
            None => format!("Using the secret you pasted ({}).", secret.masked()),
        },
    );

    // 2. Orchidea accepts it.
    let url = url::Url::parse(&before.url).map_err(|e| {
        stopped(
            RotateStage::Probe,
            EngineError::Input(format!("Entra's saved Tenant URL cannot be read: {e}.")),
        )
    })?;
    let report = probe::probe(&engine.cfg.http, &url, &secret, &engine.cfg.probe).await;
    if let Some(failure) = report.first_failure().filter(|_| !report.passed()) {
        let e = EngineError::Probe {
            cause: failure.cause(),
            fix: failure.fix(),
        };
        discard_unused(engine, facts, &before).await;
        return Err(stopped(RotateStage::Probe, e));
    }
    done(
        &mut outcome,
        RotateStage::Probe,
        format!(
            "Orchidea's SCIM endpoint accepted it ({} checks passed).",
            report.checks.len()
        ),
    );

    // 3. Entra's Test Connection with it, nothing saved yet.
    let client = graph(engine, facts);
    match validate(
        engine,
        &client,
        &before.app,
        &before.job,
        Some((&before.url, &secret)),
    )
    .await
    {
        Ok(Tested::Passed) => done(
            &mut outcome,
            RotateStage::TestNew,
            "Entra reached Orchidea with the new secret.".into(),
        ),
        Ok(Tested::NotAvailable(note)) => {
            outcome.warnings.push(note.to_string());
            done(
                &mut outcome,
                RotateStage::TestNew,
                format!("Not tested: {note}"),
            );
        }
        Err(e) => {
            discard_unused(engine, facts, &before).await;
            return Err(stopped(RotateStage::TestNew, e.into()));
        }
    }

    // 4. Save the whole set, every other setting kept.
    let saved = save(engine, facts, &before, &secret)
        .await
        .map_err(|e| stopped(RotateStage::Save, e))?;
    outcome.warnings.extend(saved.1);
    done(&mut outcome, RotateStage::Save, saved.0);

    // 5. Test Connection on what Entra now holds.
    match validate(engine, &client, &before.app, &before.job, None).await {
        Ok(Tested::Passed) => done(
            &mut outcome,
            RotateStage::TestSaved,
            "Test Connection passed with the saved credentials.".into(),
        ),
        Ok(Tested::NotAvailable(note)) => {
            done(
                &mut outcome,
                RotateStage::TestSaved,
                format!("Not tested: {note}"),
            );
        }
        Err(e) => return Err(stopped(RotateStage::TestSaved, e.into())),
    }
    facts.saved_credentials_work = true;
    facts.saved_base_address = Some(before.url.clone());
    facts.test_connection = Some(Ok(()));
    if let Some((_, tested)) = &mut facts.new_secret {
        *tested = true;
    }
    facts.scim = Some(ScimTarget {
        url,
        secret: Some(secret.clone()),
    });
    engine.save_run_state(facts);

    // 6. Only now: the old one goes.
    let (old, lines) = revoke_old(engine, facts, &before, new_id.as_deref()).await;
    let line = match &old {
        OldSecret::Revoked(which) => format!("Revoked the old secret {which}."),
        OldSecret::RevokeByHand { which } => format!(
            "Revoke the old secret {which} in Orchidea's web UI (workspace admin → User management → SCIM); the wizard cannot without Orchidea's admin API."
        ),
        OldSecret::NotIdentified { candidates } => format!(
            "Not revoked: Orchidea lists several live secrets and the wizard does not know which one Entra held: {}. Name it to revoke it, or revoke it in Orchidea's web UI.",
            candidates.join("; ")
        ),
        OldSecret::NotRevoked { which, why } => {
            let text = format!(
                "The old secret {which} was not revoked ({why}); it still works: revoke it in Orchidea's web UI or rotate again."
            );
            outcome.warnings.push(text.clone());
            text
        }
        OldSecret::None => "No other live secret in Orchidea: nothing to revoke.".into(),
    };
    outcome.warnings.extend(lines);
    outcome.warnings.extend(
        facts
            .warnings
            .iter()
            .filter(|w| w.starts_with("The new SCIM secret"))
            .cloned(),
    );
    done(&mut outcome, RotateStage::RevokeOld, line);
    outcome.old = old;
    Ok(outcome)
}

/// Reads Entra and Orchidea fresh and refuses what cannot be rotated,
/// before any write.
async fn read_before(
    engine: &Engine,
    facts: &mut Facts,
    opts: &RotateOptions,
) -> Result<Before, EngineError> {
    facts.reads = Reads::default();
    facts.app = None;
    facts.job = None;
    discover(engine, facts).await?;
    if facts.app.is_none() {
        return Err(nothing_to_rotate("no Orchidea enterprise app was found"));
    }
    let (app, job) =
        job_ids(facts).map_err(|_| nothing_to_rotate("the app has no provisioning job"))?;
    let url = facts
        .saved_base_address
        .clone()
        .ok_or_else(|| nothing_to_rotate("Entra holds no Tenant URL for the app"))?;
    let graph_url = engine.cfg.graph.base().as_str().to_string();
    let held = facts
        .held_secret
        .clone()
        .filter(|h| h.is_for(&app, &graph_url) && same_url(&h.scim_url, &url));
    let admin = match &engine.cfg.secret_source {
        SecretSource::AdminApi { admin, .. } => Some(admin.clone()),
        _ => None,
    };
    let mut live = Vec::new();
    if let Some(admin) = &admin {
        let workspace = admin.workspace().await?;
        if !same_url(workspace.scim_url.as_str(), &url) {
            return Err(EngineError::Input(format!(
                "Entra provisions to {url}, but the Orchidea workspace signed in to serves SCIM at {}: rotate with the workspace Entra provisions to.",
                workspace.scim_url
            )));
        }
        live = admin.list_scim_secrets().await?;
    }
    if let Some(named) = &opts.old_id {
        if admin.is_none() {
            return Err(EngineError::Input(
                "Naming the old secret needs Orchidea's admin API (the wizard revokes it there); without it, revoke it in Orchidea's web UI.".into(),
            ));
        }
        match live.iter().find(|s| &s.id == named) {
            Some(s) if !s.revoked => {}
            Some(_) => {
                return Err(EngineError::Input(format!(
                    "SCIM secret {named} is already revoked: name the one Entra holds."
                )));
            }
            None => {
                return Err(EngineError::Input(format!(
                    "Orchidea has no SCIM secret {named}; its live secrets: {}.",
                    live.iter()
                        .filter(|s| !s.revoked)
                        .map(describe_info)
                        .collect::<Vec<_>>()
                        .join("; ")
                )));
            }
        }
    }
    let old = pick_old(
        &live,
        None,
        held.as_ref(),
        opts.old_id.as_deref(),
        facts.saved_credentials_work,
    );
    Ok(Before {
        app,
        job,
        url,
        held,
        admin,
        live,
        old,
    })
}

/// Stage 1: a new secret from the admin API (remembered before it is
/// sent, looked up when the answer is lost) or the pasted one.
async fn new_secret(
    engine: &Engine,
    facts: &mut Facts,
    opts: &RotateOptions,
    before: &Before,
) -> Result<(Secret, Option<String>), EngineError> {
    let not_held = |secret: Secret| match &before.held {
        Some(h) if h.last4 == secret.last4() => Err(EngineError::Input(format!(
            "This looks like the secret Entra already holds (it also ends in {}): create a new one in Orchidea's web UI and paste that.",
            h.last4
        ))),
        _ => Ok(secret),
    };
    match (&opts.new_secret, &engine.cfg.secret_source) {
        (NewSecret::Pasted(secret), _) => {
            facts.new_secret = None;
            Ok((not_held(secret.clone())?, None))
        }
        (NewSecret::Configured, SecretSource::Manual(manual)) => {
            if !same_url(manual.scim_url.as_str(), &before.url) {
                return Err(EngineError::Input(format!(
                    "Entra provisions to {}, not to the SCIM URL given ({}): rotation keeps the Tenant URL; give the one Entra holds.",
                    before.url, manual.scim_url
                )));
            }
            facts.new_secret = None;
            Ok((not_held(manual.secret.clone())?, None))
        }
        (NewSecret::Configured, SecretSource::AdminApi { admin, idp }) => {
            // The new secret gets the old one's IDP when it is known.
            let idps = admin.list_idps().await?;
            let old_idp = match &before.old {
                OldPick::Id(id) => before
                    .live
                    .iter()
                    .find(|s| &s.id == id)
                    .map(|s| s.idp_id.clone()),
                _ => None,
            };
            let chosen = match old_idp.and_then(|id| idps.iter().find(|i| i.id == id)) {
                Some(i) if idp.is_none() => i.clone(),
                _ => pick_idp(&idps, idp.as_deref())?.clone(),
            };
            let created =
                own_secrets::create(engine, facts, admin.as_ref(), &chosen.id, &before.url).await?;
            facts.changes.push(format!(
                "Orchidea: created SCIM secret {} (id {}) for IDP \"{}\" to rotate Entra's secret.",
                created.secret.masked(),
                created.id,
                chosen.name
            ));
            // A new secret that is itself close to expiry is worth saying.
            let age = crate::engine::secret_age::SecretAge::of(
                &format!("The new SCIM secret ({})", created.secret.masked()),
                Some(&created.created_at),
                created.expires_at.as_deref(),
                std::time::SystemTime::now(),
            );
            if let Some(w) = age.warning {
                facts.warnings.push(format!(
                    "{w} Orchidea gives new secrets a short life: ask Orchidea for a longer one, or plan the next rotation."
                ));
            }
            Ok((created.secret, Some(created.id)))
        }
        (NewSecret::Configured, SecretSource::NotNeeded) => Err(EngineError::SecretNeeded),
    }
}

/// A new secret that Entra never received is revoked at once: nobody
/// else has its value.
async fn discard_unused(engine: &Engine, facts: &mut Facts, before: &Before) {
    if let Some(admin) = &before.admin {
        let lines = own_secrets::settle(engine, facts, admin.as_ref(), &before.url, None).await;
        facts.warnings.extend(lines);
    }
}

/// Stage 4: backup, then the whole set with the new token. Returns the
/// stage's line and warnings.
async fn save(
    engine: &Engine,
    facts: &mut Facts,
    before: &Before,
    secret: &Secret,
) -> Result<(String, Vec<String>), EngineError> {
    let current = current_secrets(engine, facts, &before.app).await?;
    let mut warnings = Vec::new();
    // Read: every plain setting is sent back (SyncAll named to be sure).
    // Unread: the scope the wizard last saved, and a warning.
    let keep_scope = match &facts.secrets_unread {
        None => saved_plain(&current, SYNC_ALL),
        Some(_) => engine
            .cfg
            .run_state
            .as_deref()
            .and_then(crate::engine::resume::load)
            .map(|s| s.scope.sync_all().to_string()),
    };
    let keep: Vec<(&str, String)> = keep_scope.iter().map(|v| (SYNC_ALL, v.clone())).collect();
    let entries = merged_secrets(&current, &before.url, secret, &keep);
    backup_settings(engine, facts, &current, "before rotating the SCIM secret")?;
    let unread = unread_note(facts);
    if !unread.is_empty() {
        warnings.push(unread.trim().to_string());
    }
    if facts.new_secret.is_some() {
        own_secrets::sending(engine, facts);
    }
    put_secrets(engine, facts, &before.app, entries).await?;
    facts.changes.push(format!(
        "Entra: saved the new Secret Token {} for Tenant URL {} (rotation; other settings kept).",
        secret.masked(),
        before.url
    ));
    Ok((
        format!(
            "Saved the new Secret Token {} for {}; {} kept.",
            secret.masked(),
            before.url,
            match &keep_scope {
                Some(v) => format!("SyncAll={v} and the notification settings"),
                None => "the other settings".to_string(),
            }
        ),
        warnings,
    ))
}

/// Stage 6: the wizard's own older secrets go as after any save; the one
/// Entra held goes too, once identified. Returns the old one's fate and
/// the lines about other secrets.
async fn revoke_old(
    engine: &Engine,
    facts: &mut Facts,
    before: &Before,
    new_id: Option<&str>,
) -> (OldSecret, Vec<String>) {
    let Some(admin) = &before.admin else {
        let which = match &before.held {
            Some(h) => h.describe(),
            None => "that Entra held before (the wizard has no record of it: it is not the one ending in the new secret's last four)".into(),
        };
        return (OldSecret::RevokeByHand { which }, Vec::new());
    };
    let old_id = match &before.old {
        OldPick::Id(id) => Some(id.clone()),
        _ => None,
    };
    let ours_before = |facts: &Facts, id: &str| {
        facts
            .created_secrets
            .iter()
            .any(|r| r.id.as_deref() == Some(id))
    };
    let was_ours = old_id.as_deref().is_some_and(|id| ours_before(facts, id));
    let mut lines = match new_id {
        Some(id) => own_secrets::settle(engine, facts, admin.as_ref(), &before.url, Some(id)).await,
        None => Vec::new(),
    };
    let settled = was_ours && old_id.as_deref().is_some_and(|id| !ours_before(facts, id));
    // The old one is reported on its own line.
    if let Some(id) = &old_id {
        lines.retain(|l| !l.contains(id.as_str()));
    }
    let Some(id) = old_id else {
        return match &before.old {
            OldPick::Ambiguous(candidates) => (
                OldSecret::NotIdentified {
                    candidates: candidates.clone(),
                },
                lines,
            ),
            _ => (OldSecret::None, lines),
        };
    };
    let which = before
        .live
        .iter()
        .find(|s| s.id == id)
        .map_or_else(|| id.clone(), describe_info);
    if settled {
        // Created by the wizard: revoked just now with its other old ones.
        return (OldSecret::Revoked(which), lines);
    }
    match admin.revoke_scim_secret(&id).await {
        Ok(()) | Err(crate::services::orchidea::OrchideaError::SecretNotFound { .. }) => {
            facts
                .created_secrets
                .retain(|r| r.id.as_deref() != Some(id.as_str()));
            facts.changes.push(format!(
                "Orchidea: revoked the old SCIM secret {which}, replaced in Entra by rotation."
            ));
            engine.save_run_state(facts);
            (OldSecret::Revoked(which), lines)
        }
        Err(e) => (
            OldSecret::NotRevoked {
                which,
                why: e.to_string(),
            },
            lines,
        ),
    }
}

/// Whether Orchidea's SCIM endpoint at `url` refuses `old` now (401/403):
/// the manual path's proof that the admin revoked it.
pub(in crate::engine) async fn refused(
    engine: &Engine,
    url: &str,
    old: &Secret,
) -> Result<bool, EngineError> {
    let url = url::Url::parse(url)
        .map_err(|e| EngineError::Input(format!("The Tenant URL cannot be read: {e}.")))?;
    let report = probe::probe(&engine.cfg.http, &url, old, &engine.cfg.probe).await;
    match report.first_failure() {
        Some(probe::ProbeFailure::Unauthorized | probe::ProbeFailure::Forbidden) => Ok(true),
        None if report.passed() => Ok(false),
        Some(other) => Err(EngineError::Probe {
            cause: other.cause(),
            fix: other.fix(),
        }),
        None => Ok(false),
    }
}
