//! Steps 3–6: provisioning mode, the job, Test Connection and saving the
//! credentials.

use std::time::Instant;

use super::saved::{
    backup_settings, current_secrets, entra_holds, merged_secrets, put_secrets, saved_plain,
    unread_note,
};
use super::{StepResult, app_id, graph, job_ids, require, with_lines};
use crate::engine::config::SecretSource;
use crate::engine::error::EngineError;
use crate::engine::facts::{Facts, Reads, ScimTarget, TestConnectionFailure};
use crate::engine::handle::Engine;
use crate::engine::remembered::CreatedJob;
use crate::engine::{apps, created_earlier, own_secrets};
use crate::procedure::checklist::Status;
use crate::procedure::step::StepId;
use crate::services::graph::secret_keys::SYNC_ALL;
use crate::services::graph::{GraphError, SynchronizationJob};
use crate::services::orchidea::pick_idp;

pub(super) fn open_provisioning(facts: &mut Facts) -> StepResult {
    require(facts, StepId::OpenProvisioning, StepId::OpenEnterpriseApp)?;
    let Some(template) = facts.template_ids.first() else {
        return Err(EngineError::NoScimTemplate {
            found: "none".into(),
        });
    };
    Ok(match &facts.job {
        Some(job) => Status::AlreadyDone(format!("Provisioning is configured (job {}).", job.id)),
        None => Status::Done(format!("Template \"{template}\" available; no job yet.")),
    })
}

pub(super) async fn automatic_mode(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::AutomaticMode, StepId::OpenProvisioning)?;
    // Re-read unless just read: another admin (or a killed run) may have
    // created it since.
    let app_id = app_id(facts)?;
    let existing = if Reads::fresh(facts.reads.job) {
        facts.job.clone()
    } else {
        engine
            .cfg
            .graph
            .list_jobs(&app_id)
            .await?
            .into_iter()
            .next()
    };
    if let Some(job) = existing {
        let text = format!(
            "Automatic: job {} (template {}) exists.",
            job.id,
            job.template_id.as_deref().unwrap_or("?")
        );
        facts.job = Some(job);
        created_earlier::forget_once_provisioning(facts, &app_id);
        return Ok(Status::AlreadyDone(text));
    }
    let template = facts
        .template_ids
        .first()
        .cloned()
        .unwrap_or_else(|| apps::SCIM_TEMPLATES[0].to_string());
    let job = create_job_recorded(engine, facts, &app_id, &template).await?;
    facts.reads.job = Some(Instant::now());
    facts.reads.created = Some(Instant::now());
    facts.changes.push(format!(
        "Entra: created provisioning job {} from template \"{template}\".",
        job.id
    ));
    let text = format!("Automatic: created job {} from \"{template}\".", job.id);
    facts.job = Some(job);
    created_earlier::forget_once_provisioning(facts, &app_id);
    Ok(Status::Done(text))
}

/// Graph replaces the whole credential set and never returns the saved
/// token, so changing a setting needs the secret again. A run resumed after
/// step 6 does not hold it; with Orchidea's admin API it makes a new one
/// (tested by Entra before use), otherwise the admin must paste it.
pub(super) async fn renew_secret(
    engine: &Engine,
    facts: &mut Facts,
) -> Result<crate::Secret, EngineError> {
    let SecretSource::AdminApi { admin, idp } = &engine.cfg.secret_source else {
        return Err(EngineError::SecretNeeded);
    };
    let (app, job) = job_ids(facts)?;
    let idps = admin.list_idps().await?;
    let chosen = pick_idp(&idps, idp.as_deref())?.clone();
    let workspace = match &facts.scim {
        Some(target) => target.url.to_string(),
        None => admin.workspace().await?.scim_url.to_string(),
    };
    let created =
        own_secrets::create(engine, facts, admin.as_ref(), &chosen.id, &workspace).await?;
    let url = created.scim_url.to_string();
    let client = graph(engine, facts);
    let tested = validate(engine, &client, &app, &job, Some((&url, &created.secret))).await?;
    facts.new_secret = Some((created.id.clone(), matches!(tested, Tested::Passed)));
    facts.changes.push(format!(
        "Orchidea: created SCIM secret {} (id {}) because Entra's saved secret cannot be read back and saving settings needs it.",
        created.secret.masked(),
        created.id
    ));
    facts.scim = Some(ScimTarget {
        url: created.scim_url,
        secret: Some(created.secret.clone()),
    });
    Ok(created.secret)
}

/// Creates the job, remembered in the run state before the create is sent
/// (undo deletes only a job the wizard made); a definite refusal forgets it.
async fn create_job_recorded(
    engine: &Engine,
    facts: &mut Facts,
    app_id: &str,
    template: &str,
) -> Result<SynchronizationJob, EngineError> {
    let graph_url = engine.cfg.graph.base().as_str().to_string();
    let app_created = facts.created_app.as_deref() == Some(app_id)
        || facts
            .created_earlier
            .as_ref()
            .is_some_and(|c| c.service_principal_id.as_deref() == Some(app_id));
    facts
        .created_jobs
        .retain(|j| j.service_principal_id != app_id);
    facts.created_jobs.push(CreatedJob {
        service_principal_id: app_id.to_string(),
        job_id: None,
        graph_url,
        tenant_id: engine.cfg.tenant_id.clone(),
        at: crate::platform::timefmt::now_rfc3339(),
        app_created,
    });
    engine.save_run_state(facts);
    let result = create_job_once(engine, facts, app_id, template).await;
    match &result {
        Ok(job) => {
            if let Some(r) = facts
                .created_jobs
                .iter_mut()
                .find(|j| j.service_principal_id == app_id)
            {
                r.job_id = Some(job.id.clone());
            }
        }
        Err(EngineError::Graph(e)) if !e.outcome_unknown() => {
            facts
                .created_jobs
                .retain(|j| j.service_principal_id != app_id);
        }
        Err(_) => {}
    }
    engine.save_run_state(facts);
    result
}

/// Creates the job — at most one, however the requests fail. A create is
/// never repeated blindly: after a lost answer or a server error the jobs
/// are listed first, and the create is sent again only if none exists.
async fn create_job_once(
    engine: &Engine,
    facts: &Facts,
    app_id: &str,
    template: &str,
) -> Result<SynchronizationJob, EngineError> {
    // An app created moments ago may still answer 404 here.
    let graph = &graph(engine, facts);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match graph.create_job(app_id, template).await {
            Ok(job) => return Ok(job),
            Err(e) if e.outcome_unknown() => e,
            Err(e) => return Err(e.into()),
        };
        if let Some(job) = graph.settling().list_jobs(app_id).await?.into_iter().next() {
            tracing::warn!("creating the job: {error}; it exists, so the create went through");
            return Ok(job);
        }
        if attempt >= 3 {
            return Err(error.into());
        }
        tracing::warn!("creating the job: {error}; no job exists, creating again");
    }
}

/// What Test Connection could say.
pub(super) enum Tested {
    Passed,
    /// The cloud has no Test Connection; the sentence says what instead.
    NotAvailable(&'static str),
}

/// Test Connection (`validateCredentials`). Microsoft's reference lists it
/// for Global and US Government only; where it is missing, an answer that
/// the call does not exist (404, 405, 501) means "not tested". A 400 is
/// still the SCIM endpoint refusing the credentials, in every cloud.
pub(super) async fn validate(
    engine: &Engine,
    graph: &crate::services::graph::GraphClient,
    app: &str,
    job: &str,
    credentials: Option<(&str, &crate::Secret)>,
) -> Result<Tested, GraphError> {
    let missing = engine
        .cfg
        .cloud
        .unsupported(crate::platform::cloud::Feature::TestConnection);
    match (
        graph.validate_credentials(app, job, credentials).await,
        missing,
    ) {
        (Ok(()), _) => Ok(Tested::Passed),
        // A refusal (`CredentialValidation`) falls through to the last arm.
        (
            Err(
                GraphError::NotFound { .. }
                | GraphError::Api {
                    status: 404 | 405 | 501,
                    ..
                },
            ),
            Some(note),
        ) => Ok(Tested::NotAvailable(note)),
        (Err(e), _) => Err(e),
    }
}

pub(super) async fn test_connection(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::TestConnection, StepId::AutomaticMode)?;
    require(facts, StepId::TestConnection, StepId::CopyUrlAndSecret)?;
    let (app, job) = job_ids(facts)?;
    let target = facts.scim.clone().ok_or(EngineError::Prerequisite {
        step: "5",
        needs: "1a",
    })?;
    let url = target.url.to_string();
    let client = graph(engine, facts);
    let result = match &target.secret {
        Some(secret) if !entra_holds(facts, &url) => {
            validate(engine, &client, &app, &job, Some((&url, secret))).await
        }
        _ => validate(engine, &client, &app, &job, None).await,
    };
    let tried_new = target.secret.is_some() && !entra_holds(facts, &url);
    match result {
        Ok(Tested::Passed) => {
            facts.test_connection = Some(Ok(()));
            if tried_new && let Some((_, tested)) = &mut facts.new_secret {
                *tested = true;
            }
        }
        Ok(Tested::NotAvailable(note)) => {
            facts.test_connection = Some(Err(TestConnectionFailure::NotAvailable(note)));
            if !facts.warnings.iter().any(|w| w == note) {
                facts.warnings.push(note.to_string());
            }
            return Ok(Status::Done(format!("Not tested: {note}")));
        }
        Err(e) => {
            facts.test_connection = Some(Err(TestConnectionFailure::Refused(e.clone())));
            return Err(e.into());
        }
    }
    Ok(if entra_holds(facts, &url) {
        Status::AlreadyDone(format!("The saved credentials for {url} still work."))
    } else {
        Status::Done(format!("Entra reached {url} and the secret was accepted."))
    })
}

pub(super) async fn save_credentials(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::SaveCredentials, StepId::TestConnection)?;
    let (app, _) = job_ids(facts)?;
    let target = facts.scim.clone().ok_or(EngineError::Prerequisite {
        step: "6",
        needs: "1a",
    })?;
    let url = target.url.to_string();
    if entra_holds(facts, &url) {
        let status =
            Status::AlreadyDone(format!("Tenant URL {url} and a working secret are saved."));
        let lines = own_secrets::after_save(engine, facts, &url, true).await;
        return Ok(with_lines(status, &lines));
    }
    let Some(secret) = target.secret else {
        return Err(EngineError::SecretNeeded);
    };
    let current = current_secrets(engine, facts, &app).await?;
    let sync_all = saved_plain(&current, SYNC_ALL);
    let keep: Vec<(&str, String)> = sync_all.iter().map(|v| (SYNC_ALL, v.clone())).collect();
    let entries = merged_secrets(&current, &url, &secret, &keep);
    backup_settings(engine, facts, &current, "before step 6 (save credentials)")?;
    let unread = unread_note(facts);
    own_secrets::sending(engine, facts);
    put_secrets(engine, facts, &app, entries).await?;
    facts.saved_base_address = Some(url.clone());
    facts.saved_sync_all = sync_all;
    facts.saved_credentials_work = true;
    facts.changes.push(format!(
        "Entra: saved Tenant URL {url} and Secret Token {}.",
        secret.masked()
    ));
    let status = Status::Done(format!(
        "Saved Tenant URL {url} and Secret Token {}.{unread}",
        secret.masked()
    ));
    let lines = own_secrets::after_save(engine, facts, &url, false).await;
    Ok(with_lines(status, &lines))
}
