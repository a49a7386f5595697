//! Reading the tenant before any step writes: the candidate apps, the
//! chosen app's job and its saved settings.

use std::time::Instant;

use super::credentials::validate;
use super::graph;
use super::saved::{saved_or_unknown, saved_plain};
use crate::engine::apps::Choice;
use crate::engine::error::EngineError;
use crate::engine::facts::{Facts, Reads};
use crate::engine::handle::Engine;
use crate::engine::{apps, created_earlier};
use crate::services::graph::secret_keys::{
    BASE_ADDRESS, SECRET_TOKEN, SYNC_ALL, SYNC_NOTIFICATION_SETTINGS as NOTIFICATIONS,
};

/// Finds the app, its job and its saved settings without writing anything,
/// so step 1 can tell whether Entra already holds a working secret.
pub(in crate::engine) async fn discover(
    engine: &Engine,
    facts: &mut Facts,
) -> Result<(), EngineError> {
    let graph = &graph(engine, facts);
    if facts.candidates.is_empty() || !Reads::fresh(facts.reads.candidates) {
        facts.candidates = apps::candidates(graph, &engine.cfg.app_name).await?;
        facts.reads.candidates = Some(Instant::now());
        created_earlier::forget_if_listed(facts);
    }
    if facts.app.is_none() {
        let picked = match &engine.cfg.app_id {
            Some(id) => facts
                .candidates
                .iter()
                .find(|c| &c.service_principal.id == id && c.capability.can_provision()),
            None => match apps::choose(&facts.candidates) {
                Choice::One(c) => Some(c),
                _ => None,
            },
        };
        facts.app = picked.map(|c| c.service_principal.clone());
    }
    let Some(app) = facts.app.clone() else {
        return Ok(());
    };
    if let Some((id, at)) = &facts.reads.discovered
        && *id == app.id
        && Reads::fresh(Some(*at))
    {
        return Ok(());
    }
    // The candidate's jobs were read a moment ago: not asked again.
    let known = facts
        .candidates
        .iter()
        .find(|c| c.service_principal.id == app.id)
        .filter(|_| Reads::fresh(facts.reads.candidates))
        .map(|c| c.jobs.clone());
    let (jobs, saved) = if let Some(jobs) = known {
        (jobs, graph.get_secrets(&app.id).await)
    } else {
        let (jobs, saved) =
            futures::future::join(graph.list_jobs(&app.id), graph.get_secrets(&app.id)).await;
        (jobs?, saved)
    };
    let saved = saved_or_unknown(facts, saved)?;
    facts.job = jobs.into_iter().next();
    if let Some(job) = &facts.job {
        let view = crate::engine::monitor::JobView::from_job(job);
        if let Some(q) = view.quarantine.as_ref().filter(|_| view.is_quarantined()) {
            let warning = format!(
                "The provisioning job is in quarantine ({}): {} Fix: {}",
                q.reason,
                q.error_message
                    .as_deref()
                    .unwrap_or("Entra gave no message."),
                q.fix
            );
            if !facts.warnings.contains(&warning) {
                facts.warnings.push(warning);
            }
        }
    }
    facts.saved_base_address = saved_plain(&saved, BASE_ADDRESS);
    facts.saved_sync_all = saved_plain(&saved, SYNC_ALL);
    facts.saved_notifications = saved_plain(&saved, NOTIFICATIONS);
    let has_token = saved.iter().any(|e| e.key == SECRET_TOKEN);
    let now = Instant::now();
    facts.reads.job = Some(now);
    facts.reads.secrets = Some((now, saved));
    // Where Test Connection is missing, a saved token is taken as working
    // (the first cycle shows it), or every run would replace it.
    let tested = match (&facts.job, has_token) {
        (Some(job), true) => Some(validate(engine, graph, &app.id, &job.id, None).await),
        _ => None,
    };
    facts.saved_credentials_work = matches!(tested, Some(Ok(_)));
    facts.saved_credentials_error = tested.and_then(Result::err);
    facts.reads.discovered = Some((app.id.clone(), now));
    Ok(())
}
