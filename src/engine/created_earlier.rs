//! An app the wizard created that Entra does not list yet. A new object
//! "might take several minutes" to be seen (support article
//! `404-not-found-error-manage-objects-microsoft-graph.md`), so the create
//! is kept in the run state from the moment it is sent, and a run that
//! would create the app waits for that one instead: neither a lost answer
//! nor a re-run made before Entra caught up makes a second app.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use super::apps::{self, AppCandidate};
use super::error::EngineError;
use super::facts::Facts;
use super::handle::Engine;
use super::remembered::CreatedApp;
use crate::procedure::step::StepId;
use crate::services::graph::{GraphClient, GraphError, ServicePrincipal};

/// Entra answered the create (or the app was found by name after a lost
/// answer): its ids join the remembered create, kept at once.
pub(super) fn answered(
    engine: &Engine,
    facts: &mut Facts,
    sp: &ServicePrincipal,
    app_id: Option<&str>,
) {
    let sent = facts.created_earlier.take();
    let name = sent
        .as_ref()
        .map(|c| c.display_name.clone())
        .or_else(|| sp.display_name.clone())
        .unwrap_or_default();
    facts.created_earlier = Some(CreatedApp {
        service_principal_id: Some(sp.id.clone()),
        app_id: app_id.map(str::to_string).or_else(|| sp.app_id.clone()),
        display_name: name.clone(),
        tenant_id: engine.cfg.tenant_id.clone(),
        at: sent.map_or_else(crate::platform::timefmt::now_rfc3339, |c| c.at),
    });
    engine.save_run_state(facts);
}

/// A list of apps was just read: once it shows the created app, lists
/// find it and it need not be remembered any more.
pub(super) fn forget_if_listed(facts: &mut Facts) {
    let Some(earlier) = &facts.created_earlier else {
        return;
    };
    if facts.candidates.iter().any(|c| listed_as(earlier, c)) {
        facts.created_earlier = None;
    }
}

/// The created app has a provisioning job: it has replicated and the run
/// state names it as the run's app, so it need not be waited for again.
pub(super) fn forget_once_provisioning(facts: &mut Facts, app_id: &str) {
    if facts
        .created_earlier
        .as_ref()
        .is_some_and(|c| c.service_principal_id.as_deref() == Some(app_id))
    {
        facts.created_earlier = None;
    }
}

fn listed_as(earlier: &CreatedApp, c: &AppCandidate) -> bool {
    match &earlier.service_principal_id {
        Some(id) => c.service_principal.id == *id,
        // Sent but not answered: an app of that name that can provision
        // is what it made (or makes creating unnecessary).
        None => {
            c.capability.can_provision() && c.name().eq_ignore_ascii_case(&earlier.display_name)
        }
    }
}

/// The created app has replicated: it joins the candidates with what it
/// can do (lists may still leave it out for a while).
pub(super) fn seen(facts: &mut Facts, candidate: AppCandidate) {
    let id = candidate.service_principal.id.clone();
    facts.candidates.retain(|c| c.service_principal.id != id);
    facts.candidates.push(candidate);
    facts.reads.candidates = Some(Instant::now());
}

/// Runs `read` (settling reads of a new app) and shows its 404 retries as
/// one sentence in the step's detail instead of one per retry.
pub(super) async fn replicated<T>(
    engine: &Engine,
    read: impl Future<Output = Result<T, GraphError>>,
) -> Result<T, GraphError> {
    let graph = &engine.cfg.graph;
    let mark = graph.retry_notes_mark();
    let started = Instant::now();
    let result = read.await;
    let waited = started.elapsed();
    graph.summarise_retries_since(mark, |retries| waited_sentence(waited, retries));
    result
}

fn waited_sentence(waited: Duration, retries: usize) -> String {
    format!(
        "Waited {:.1} s for Entra to replicate the new app ({retries} {}).",
        waited.as_secs_f64(),
        if retries == 1 { "retry" } else { "retries" }
    )
}

/// The app an earlier run (or this one) created and Entra does not list:
/// waited for by id (by name when the create's answer was lost) within
/// the retry policy's bound, and used when it appears. Not found and
/// older than [`super::remembered::CREATED_APP_REMEMBERED`]: it was deleted,
/// said plainly, and `Ok(None)` lets a new one be created. Not found and
/// younger: the step stops rather than create a second app, unless the
/// admin asked for one ([`super::config::EngineConfig::create_app_again`]).
pub(super) async fn wait_for(
    engine: &Engine,
    facts: &mut Facts,
) -> Result<Option<ServicePrincipal>, EngineError> {
    let Some(earlier) = facts.created_earlier.clone() else {
        return Ok(None);
    };
    let at = crate::platform::timefmt::readable(&earlier.at);
    if engine.cfg.create_app_again || facts.create_app_again {
        facts.warnings.push(format!(
            "An earlier run created {} at {at}, which Entra does not list; a new app was created as asked.",
            earlier.describe()
        ));
        facts.created_earlier = None;
        return Ok(None);
    }
    let graph = &engine.cfg.graph;
    let within = graph.retry_policy().settle_within;
    engine.report_running(
        facts,
        StepId::OpenEnterpriseApp,
        format!(
            "An earlier run created {} at {at}; Entra does not list it yet. Waiting for it before creating anything (up to {} s)…",
            earlier.describe(),
            within.as_secs()
        ),
    );
    let started = Instant::now();
    let settling = graph.settling();
    let found = if let Some(id) = &earlier.service_principal_id {
        match replicated(engine, settling.get_service_principal(id)).await {
            Ok(sp) => Some(sp),
            Err(GraphError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        let named = replicated(
            engine,
            named_within(graph, &earlier.display_name, &facts.candidates, within),
        )
        .await?;
        match named.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => return Err(ambiguous(&earlier.display_name, many)),
        }
    };
    let waited_s = started.elapsed().as_secs();
    let Some(sp) = found else {
        if earlier.expired(SystemTime::now()) {
            let text = format!(
                "{} created at {at} is not in Entra (not found after {waited_s} s, and created more than {} h ago): it was deleted.",
                earlier.describe(),
                super::remembered::CREATED_APP_REMEMBERED.as_secs() / 3600
            );
            facts.warnings.push(text.clone());
            facts.created_earlier = None;
            engine.save_run_state(facts);
            engine.report_running(facts, StepId::OpenEnterpriseApp, text);
            return Ok(None);
        }
        return Err(EngineError::CreatedAppUnseen {
            app: earlier.describe(),
            at,
            waited_s,
        });
    };
    if earlier.service_principal_id.is_none() {
        answered(engine, facts, &sp, None);
    }
    let candidate = match replicated(engine, apps::created(&settling, sp.clone())).await {
        Ok(c) => c,
        Err(GraphError::NotFound { .. }) => {
            return Err(EngineError::NotReplicated {
                name: earlier.display_name,
                id: sp.id,
                waited_s: within.as_secs(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    seen(facts, candidate);
    facts.created_app = Some(sp.id.clone());
    facts.reads.created = Some(Instant::now());
    facts.changes.push(format!(
        "Entra: used {}, which an earlier run created at {at} (not created again).",
        CreatedApp {
            service_principal_id: Some(sp.id.clone()),
            ..earlier
        }
        .describe()
    ));
    Ok(Some(sp))
}

/// The apps named exactly `name` that are not in `known`, looked for with
/// doubling waits until one appears or `within` has passed.
pub(super) async fn named_within(
    graph: &GraphClient,
    name: &str,
    known: &[AppCandidate],
    within: Duration,
) -> Result<Vec<ServicePrincipal>, GraphError> {
    let policy = graph.retry_policy().clone();
    let started = Instant::now();
    let mut wait = policy.base_delay;
    loop {
        let found = apps::new_named(graph, name, known).await?;
        if !found.is_empty() || started.elapsed() + wait > within {
            return Ok(found);
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(policy.max_delay);
    }
}

pub(super) fn ambiguous(name: &str, many: &[ServicePrincipal]) -> EngineError {
    EngineError::AmbiguousApp {
        names: many
            .iter()
            .map(|sp| format!("\"{name}\" ({})", sp.id))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_reads_as_one_sentence() {
        assert_eq!(
            waited_sentence(Duration::from_millis(2_340), 7),
            "Waited 2.3 s for Entra to replicate the new app (7 retries)."
        );
        assert!(waited_sentence(Duration::ZERO, 1).ends_with("(1 retry)."));
    }

    #[test]
    fn a_created_app_is_forgotten_once_a_list_shows_it() {
        let app = |id: &str, name: &str, scim: bool| AppCandidate {
            service_principal: ServicePrincipal {
                id: id.into(),
                display_name: Some(name.into()),
                ..ServicePrincipal::default()
            },
            capability: if scim {
                apps::Capability::Scim {
                    template_id: "scim".into(),
                    has_job: false,
                }
            } else {
                apps::Capability::OidcRegistration
            },
            jobs: vec![],
        };
        let mut made = CreatedApp::attempt("Orchidea", None);
        // Answer lost: a capable app of that name counts, an OIDC one not.
        assert!(listed_as(&made, &app("x", "orchidea", true)));
        assert!(!listed_as(&made, &app("x", "Orchidea", false)));
        made.service_principal_id = Some("sp-1".into());
        assert!(!listed_as(&made, &app("x", "Orchidea", true)));
        assert!(listed_as(&made, &app("sp-1", "Renamed", true)));

        let mut facts = Facts {
            created_earlier: Some(made),
            candidates: vec![app("x", "Orchidea", true)],
            ..Facts::default()
        };
        forget_if_listed(&mut facts);
        assert!(facts.created_earlier.is_some());
        facts.candidates.push(app("sp-1", "Orchidea", true));
        forget_if_listed(&mut facts);
        assert!(facts.created_earlier.is_none());
    }
}
