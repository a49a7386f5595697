//! Carrying out an undo: reads what is there now, builds the plan
//! ([`super::undo::plan`]), asks, then does each action check-then-act, so
//! a second undo changes nothing and a re-run after a failure continues.

use std::collections::BTreeSet;

use super::Confirm;
use super::backup::{Backup, Kind};
use super::config::SecretSource;
use super::error::EngineError;
use super::facts::Facts;
use super::handle::Engine;
use super::own_secrets::Scope;
use super::steps;
use super::undo::{LiveJob, Original, OwnSecret, UndoAction, UndoInputs, UndoPlan, plan};
use super::undo_sso::SsoUndo;
use crate::procedure::step::StepId;
use crate::services::graph::secret_keys::SECRET_TOKEN;
use crate::services::graph::{JobStatusCode, SecretEntry};
use crate::services::orchidea::OrchideaError;

/// What an undo did: the plan it showed, whether it was confirmed, and one
/// line per action done (or found already done).
#[derive(Debug, Clone, Default)]
pub struct UndoOutcome {
    pub plan: UndoPlan,
    pub confirmed: bool,
    pub done: Vec<String>,
}

impl Engine {
    /// The undo plan for this tenant, read live; changes nothing.
    pub async fn undo_plan(&self) -> Result<UndoPlan, EngineError> {
        let (inputs, _) = self.undo_inputs().await?;
        Ok(plan(&inputs))
    }

    /// Shows the plan through `confirm` and, when confirmed, carries it out.
    /// A failed action stops undo with [`EngineError::UndoStopped`]; what
    /// came before stays done and a new undo continues from there.
    pub async fn undo(&self, confirm: &dyn Confirm) -> Result<UndoOutcome, EngineError> {
        let (inputs, originals) = self.undo_inputs().await?;
        let plan = plan(&inputs);
        let mut outcome = UndoOutcome {
            plan: plan.clone(),
            ..UndoOutcome::default()
        };
        if plan.actions.is_empty() {
            outcome.confirmed = true;
            return Ok(outcome);
        }
        if !confirm
            .confirm(StepId::StartProvisioning, plan.text())
            .await
        {
            return Ok(outcome);
        }
        outcome.confirmed = true;
        for (i, action) in plan.actions.iter().enumerate() {
            match self.undo_one(action, &originals).await {
                Ok(line) => outcome.done.push(line),
                Err(cause) => {
                    // What came before may have removed part of the setup.
                    if i > 0 {
                        self.forget_checklist().await;
                    }
                    return Err(EngineError::UndoStopped {
                        number: i + 1,
                        action: action.line(),
                        done: outcome.done.len(),
                        cause: Box::new(cause),
                    });
                }
            }
        }
        self.forget_checklist().await;
        Ok(outcome)
    }

    /// Undo changed the setup: no step counts as done, so a later run
    /// checks every step again and recreates what undo removed.
    async fn forget_checklist(&self) {
        let mut facts = self.facts.lock().await;
        facts.checklist = crate::procedure::checklist::Checklist::default();
        self.save_run_state(&facts);
    }

    /// The plan's inputs, and the first backup of each kind.
    async fn undo_inputs(&self) -> Result<(UndoInputs, Vec<Backup>), EngineError> {
        {
            let mut facts = self.facts.lock().await;
            match steps::discover(self, &mut facts).await {
                Ok(()) | Err(EngineError::NoApp { .. }) => {}
                Err(e) => return Err(e),
            }
            // Several apps and none chosen: undo cannot tell whose job to
            // pause, and revoking secrets alone would leave it running on
            // a revoked token.
            if facts.app.is_none()
                && self.cfg.app_id.is_none()
                && let super::apps::Choice::Ambiguous(many) = super::apps::choose(&facts.candidates)
            {
                return Err(steps::ambiguous(&many));
            }
        }
        let backups = self.backups().await;
        let first = |kind: Kind| {
            backups
                .iter()
                .filter(|b| b.kind == kind)
                .min_by(|a, b| (!a.original, &a.id).cmp(&(!b.original, &b.id)))
                .cloned()
        };
        let (schema_b, settings_b) = (first(Kind::Schema), first(Kind::Settings));
        let facts = self.facts.lock().await.clone();
        let graph = &self.cfg.graph;
        let graph_url = graph.base().as_str();
        let tenant = self.cfg.tenant_id.as_deref();
        let mut inputs = UndoInputs::default();
        if let (Some(app), Some(job)) = (&facts.app, &facts.job) {
            let records: Vec<_> = facts
                .created_jobs
                .iter()
                .filter(|r| r.belongs_to(graph_url, tenant) && r.service_principal_id == app.id)
                .collect();
            // Only a recorded id proves the job is the wizard's: a create
            // whose answer never came may have failed, and the job now
            // there be someone else's.
            inputs.job_created = records
                .iter()
                .any(|r| r.job_id.as_deref() == Some(job.id.as_str()));
            inputs.job_unconfirmed = records
                .iter()
                .find(|r| r.job_id.is_none())
                .map(|r| r.at.clone());
            inputs.app_created = records.iter().any(|r| r.app_created);
            inputs.job = Some(LiveJob {
                app_id: app.id.clone(),
                app_name: app.display_name.clone().unwrap_or_default(),
                job_id: job.id.clone(),
                paused: job
                    .status
                    .as_ref()
                    .is_some_and(|s| s.code == JobStatusCode::Paused),
            });
            if let Some(b) = &schema_b {
                let now = graph.get_schema(&app.id, &job.id).await?;
                inputs.schema = Some(original(b, b.schema.as_ref() != Some(&now), false));
            }
            if let Some(b) = &settings_b {
                let now = graph.get_secrets(&app.id).await?;
                let had = had_credentials(b);
                let token_counts = token_counts(&facts, &app.id, graph_url, had);
                inputs.settings = Some(original(b, settings_differ(b, &now, token_counts), had));
            }
        }
        self.own_secrets_inputs(&facts, &mut inputs).await?;
        inputs.sso = self.sso_inputs(&facts).await?;
        let originals = schema_b.into_iter().chain(settings_b).collect();
        Ok((inputs, originals))
    }

    /// What step 0 did in this Graph and tenant; with the admin API,
    /// whether Orchidea still lists the IDP it created.
    async fn sso_inputs(&self, facts: &Facts) -> Result<Vec<SsoUndo>, EngineError> {
        let graph_url = self.cfg.graph.base().as_str();
        let tenant = self.cfg.tenant_id.as_deref();
        let records: Vec<_> = facts
            .created_sso
            .iter()
            .filter(|r| r.belongs_to(graph_url, tenant))
            .collect();
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let listed = match &self.cfg.secret_source {
            SecretSource::AdminApi { admin, .. } if records.iter().any(|r| r.idp_id.is_some()) => {
                Some(admin.list_idps().await?)
            }
            _ => None,
        };
        Ok(records
            .into_iter()
            .map(|r| SsoUndo {
                app_id: r.service_principal_id.clone(),
                app_name: r.app_name.clone().unwrap_or_else(|| "Orchidea".into()),
                app_created: r.app_created,
                saml_set: r.saml_set,
                certificate: r.certificate_thumbprint.clone(),
                idp: r
                    .idp_id
                    .clone()
                    .map(|id| (id, r.idp_name.clone().unwrap_or_default())),
                idp_listed: match (&listed, &r.idp_id) {
                    (Some(list), Some(id)) => list.iter().any(|i| &i.id == id),
                    _ => true,
                },
                idp_by_hand: r.idp_by_hand.then(|| r.reply_url.clone()).flatten(),
            })
            .collect())
    }

    /// The wizard's secrets of this Graph and tenant; with the admin API,
    /// Orchidea's list says which are revoked and which are someone else's.
    async fn own_secrets_inputs(
        &self,
        facts: &Facts,
        inputs: &mut UndoInputs,
    ) -> Result<(), EngineError> {
        let workspace = self.undo_workspace(facts).await?;
        let ours: Vec<_> = match &workspace {
            Some(url) => {
                let scope = Scope::new(self, url);
                facts
                    .created_secrets
                    .iter()
                    .filter(|r| scope.holds(r))
                    .collect()
            }
            None => Vec::new(),
        };
        let listed = match &self.cfg.secret_source {
            SecretSource::AdminApi { admin, .. } => {
                inputs.admin_api = true;
                Some(admin.list_scim_secrets().await?)
            }
            _ => None,
        };
        for r in &ours {
            let found = listed.iter().flatten().find(|s| {
                r.id.as_deref() == Some(s.id.as_str())
                    || (r.id.is_none() && s.description.as_deref() == Some(&r.description))
            });
            inputs.secrets.push(match found {
                Some(s) => OwnSecret {
                    id: Some(s.id.clone()),
                    label: format!("{} (…{})", s.id, s.last4),
                    revoked: s.revoked,
                },
                None if r.id.is_none() => OwnSecret {
                    id: None,
                    label: format!("with the description \"{}\"", r.description),
                    revoked: false,
                },
                // Listed nowhere: already gone from Orchidea.
                None if listed.is_some() => OwnSecret {
                    id: r.id.clone(),
                    label: r.describe(),
                    revoked: true,
                },
                None => OwnSecret {
                    id: r.id.clone(),
                    label: match &r.last4 {
                        Some(l) => format!("{} (…{l})", r.describe()),
                        None => r.describe(),
                    },
                    revoked: false,
                },
            });
        }
        let mine: BTreeSet<&str> = inputs
            .secrets
            .iter()
            .filter_map(|s| s.id.as_deref())
            .collect();
        inputs.not_ours = listed
            .iter()
            .flatten()
            .filter(|s| !s.revoked && !mine.contains(s.id.as_str()))
            .map(|s| format!("{} (…{})", s.id, s.last4))
            .collect();
        Ok(())
    }

    /// The Orchidea workspace (its SCIM URL) whose secrets are this
    /// setup's: the admin API's, the pasted one's, else the Tenant URL
    /// Entra holds or the wizard saved there; failing those, the only
    /// workspace the wizard made secrets for in this tenant.
    async fn undo_workspace(&self, facts: &Facts) -> Result<Option<String>, EngineError> {
        let graph_url = self.cfg.graph.base().as_str();
        let known = match &self.cfg.secret_source {
            SecretSource::AdminApi { admin, .. } => {
                Some(admin.workspace().await?.scim_url.to_string())
            }
            SecretSource::Manual(m) => Some(m.scim_url.to_string()),
            SecretSource::NotNeeded => facts
                .app
                .as_ref()
                .and_then(|_| facts.saved_base_address.clone())
                .filter(|u| !u.is_empty())
                .or_else(|| {
                    let app = facts.app.as_ref()?;
                    let held = facts.held_secret.as_ref()?;
                    held.is_for(&app.id, graph_url)
                        .then(|| held.scim_url.clone())
                }),
        };
        if known.is_some() {
            return Ok(known);
        }
        let tenant = self.cfg.tenant_id.as_deref();
        let mut urls = facts
            .created_secrets
            .iter()
            .filter(|r| r.belongs_to(&r.scim_url, graph_url, tenant))
            .map(|r| r.scim_url.trim_end_matches('/'));
        let first = urls.next();
        Ok(first.filter(|f| urls.all(|u| u == *f)).map(str::to_string))
    }

    /// One action, checked first: what is already so is said, not redone.
    async fn undo_one(
        &self,
        action: &UndoAction,
        originals: &[Backup],
    ) -> Result<String, EngineError> {
        let graph = &self.cfg.graph;
        let mut facts = self.facts.lock().await;
        match action {
            UndoAction::PauseJob { app, job } => {
                let now = graph.get_job(app, job).await?;
                if now.status.is_some_and(|s| s.code == JobStatusCode::Paused) {
                    return Ok(format!("Job {job} was already paused."));
                }
                graph.pause_job(app, job).await?;
                facts
                    .changes
                    .push(format!("Entra: paused provisioning job {job} (undo)."));
                Ok(format!("Paused provisioning job {job}."))
            }
            UndoAction::RestoreSchema { backup } => {
                let b = by_id(originals, backup)?;
                let diff = steps::restore(self, &mut facts, b, false).await?;
                Ok(if diff.is_empty() {
                    format!("The mappings already matched backup {backup}.")
                } else {
                    format!(
                        "Put back the mappings from backup {backup} ({} lines changed).",
                        diff.len()
                    )
                })
            }
            UndoAction::RestoreSettings { backup, .. } => {
                let b = by_id(originals, backup)?;
                let app = b.service_principal_id.as_str();
                let now = graph.get_secrets(app).await?;
                let had = had_credentials(b);
                let graph_url = graph.base().as_str();
                if !settings_differ(b, &now, token_counts(&facts, app, graph_url, had)) {
                    return Ok(format!("The settings already matched backup {backup}."));
                }
                steps::backup_settings(self, &mut facts, &now, "before undo")?;
                let entries: Vec<SecretEntry> = b
                    .settings
                    .iter()
                    .map(|(k, v)| SecretEntry::plain(k.clone(), v.clone()))
                    .collect();
                graph.put_secrets(app, &entries).await?;
                facts.reads.secrets = None;
                forget_held(&mut facts, app, graph_url);
                self.save_run_state(&facts);
                facts.changes.push(format!(
                    "Entra: put back the provisioning settings from backup {backup}, without a Secret Token (undo)."
                ));
                Ok(format!("Put back the settings from backup {backup}."))
            }
            UndoAction::DeleteJob { app, job } => {
                let exists = graph.list_jobs(app).await?.iter().any(|j| &j.id == job);
                if exists {
                    graph.delete_job(app, job).await?;
                    forget_held(&mut facts, app, graph.base().as_str());
                    facts
                        .changes
                        .push(format!("Entra: deleted provisioning job {job} (undo)."));
                }
                facts
                    .created_jobs
                    .retain(|r| r.service_principal_id != *app);
                if facts.job.as_ref().is_some_and(|j| &j.id == job) {
                    facts.job = None;
                }
                self.save_run_state(&facts);
                Ok(if exists {
                    format!("Deleted provisioning job {job}.")
                } else {
                    format!("Job {job} was already deleted.")
                })
            }
            UndoAction::RevokeSecret { id, label } => {
                let SecretSource::AdminApi { admin, .. } = &self.cfg.secret_source else {
                    return Err(EngineError::Input(format!(
                        "SCIM secret {label} can only be revoked with Orchidea's admin API; revoke it in Orchidea's web UI."
                    )));
                };
                let line = match admin.revoke_scim_secret(id).await {
                    Ok(()) => format!("Revoked Orchidea SCIM secret {label}."),
                    Err(OrchideaError::SecretNotFound { .. }) => {
                        format!("SCIM secret {label} was already gone from Orchidea.")
                    }
                    Err(e) => return Err(e.into()),
                };
                facts
                    .created_secrets
                    .retain(|r| r.id.as_deref() != Some(id.as_str()));
                facts.changes.push(format!(
                    "Orchidea: revoked SCIM secret {label}, created by this wizard (undo)."
                ));
                self.save_run_state(&facts);
                Ok(line)
            }
            UndoAction::DeleteIdp { id, name } => {
                let SecretSource::AdminApi { admin, .. } = &self.cfg.secret_source else {
                    return Err(EngineError::Input(format!(
                        "The IDP \"{name}\" can only be deleted with Orchidea's admin API; delete it in Orchidea's web UI (workspace settings → Authentication)."
                    )));
                };
                // Check, then act: an IDP already gone is not asked for again.
                let listed = admin.list_idps().await?.iter().any(|i| &i.id == id);
                if listed {
                    admin.delete_saml_idp(id).await?;
                    facts.changes.push(format!(
                        "Orchidea: deleted IDP \"{name}\" ({id}), created by this wizard (undo)."
                    ));
                }
                for r in &mut facts.created_sso {
                    if r.idp_id.as_deref() == Some(id.as_str()) {
                        r.idp_id = None;
                        r.idp_name = None;
                    }
                }
                if facts.idp.as_ref().is_some_and(|i| &i.id == id) {
                    facts.idp = None;
                }
                self.save_run_state(&facts);
                Ok(if listed {
                    format!("Deleted Orchidea IDP \"{name}\" ({id}).")
                } else {
                    format!("IDP \"{name}\" ({id}) was already gone from Orchidea.")
                })
            }
        }
    }
}

fn original(b: &Backup, differs: bool, had_credentials: bool) -> Original {
    Original {
        backup_id: b.id.clone(),
        taken_at: b.taken_at.clone(),
        differs,
        had_credentials,
    }
}

/// The backup's settings held a Tenant URL: the job had credentials then.
fn had_credentials(b: &Backup) -> bool {
    b.settings
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("BaseAddress") && !v.is_empty())
}

fn by_id<'a>(originals: &'a [Backup], id: &str) -> Result<&'a Backup, EngineError> {
    originals.iter().find(|b| b.id == id).ok_or_else(|| {
        EngineError::Input(format!(
            "Backup {id} is no longer in the backup folder; nothing more was changed."
        ))
    })
}

/// Entra's saved settings differ from the backup's, or hold a Secret Token
/// that counts (restored settings carry none: the one before cannot be
/// read back).
fn settings_differ(b: &Backup, now: &[SecretEntry], token_counts: bool) -> bool {
    let plain: BTreeSet<(String, String)> = now
        .iter()
        .filter_map(|e| e.plain_value().map(|v| (e.key.clone(), v.to_string())))
        .collect();
    let saved: BTreeSet<(String, String)> = b.settings.iter().cloned().collect();
    plain != saved || (token_counts && now.iter().any(|e| e.key.eq_ignore_ascii_case(SECRET_TOKEN)))
}

/// A token in Entra is a difference when the settings before the wizard
/// had none, or when it is the one the wizard saved there. One the admin
/// pasted back after undo (as its plan says to) is theirs: a second undo
/// leaves it.
fn token_counts(facts: &Facts, app: &str, graph_url: &str, had_credentials: bool) -> bool {
    !had_credentials
        || facts
            .held_secret
            .as_ref()
            .is_some_and(|h| h.is_for(app, graph_url))
}

/// Entra no longer holds the token the wizard saved for `app`.
fn forget_held(facts: &mut Facts, app: &str, graph_url: &str) {
    if facts
        .held_secret
        .as_ref()
        .is_some_and(|h| h.is_for(app, graph_url))
    {
        facts.held_secret = None;
    }
}
