//! Step 2: which enterprise apps could be "the Orchidea app", and why not.

use crate::services::graph::{GraphClient, GraphError, ServicePrincipal, SynchronizationJob};

/// Templates that give a SCIM provisioning job. `customappsso` is what jobs
/// made before the `scim` template existed use (older Graph walkthroughs;
/// see `tests/fixtures/graph/SOURCES.md`).
pub const SCIM_TEMPLATES: [&str; 2] = ["scim", "customappsso"];

/// Tag of an app registration for OIDC sign-in only.
const INTEGRATED_APP_TAG: &str = "WindowsAzureActiveDirectoryIntegratedApp";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capability {
    /// Offers a SCIM template; `has_job` when provisioning is already set up.
    Scim { template_id: String, has_job: bool },
    /// An app registration used for OIDC sign-in: no provisioning template.
    OidcRegistration,
    /// No SCIM template for another reason.
    NoTemplate { found: Vec<String> },
}

impl Capability {
    pub fn can_provision(&self) -> bool {
        matches!(self, Capability::Scim { .. })
    }

    /// Why an app is greyed out.
    pub fn reason(&self) -> &'static str {
        match self {
            Capability::Scim { .. } => "",
            Capability::OidcRegistration => {
                "it is an app registration for OpenID Connect sign-in, which has no provisioning."
            }
            Capability::NoTemplate { .. } => "it offers no SCIM provisioning template.",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppCandidate {
    pub service_principal: ServicePrincipal,
    pub capability: Capability,
    /// The provisioning jobs read with it (reused by discovery, not read twice).
    pub jobs: Vec<SynchronizationJob>,
}

impl AppCandidate {
    pub fn name(&self) -> &str {
        self.service_principal
            .display_name
            .as_deref()
            .unwrap_or("(unnamed)")
    }
}

/// Lists the apps whose name starts with `prefix`, each with what it can do.
/// The template and job look-ups for different apps run concurrently.
pub async fn candidates(
    graph: &GraphClient,
    prefix: &str,
) -> Result<Vec<AppCandidate>, GraphError> {
    let sps = graph.find_service_principals(prefix).await?;
    let checks = sps.into_iter().map(|sp| async move {
        let (capability, jobs) = capability(graph, &sp).await?;
        Ok::<_, GraphError>(AppCandidate {
            service_principal: sp,
            capability,
            jobs,
        })
    });
    futures::future::try_join_all(checks).await
}

/// The app just created, with what it can do, once Graph shows it. Pass a
/// settling client ([`GraphClient::settling`]): until the new app has
/// replicated, its templates and jobs answer 404.
pub async fn created(
    graph: &GraphClient,
    sp: ServicePrincipal,
) -> Result<AppCandidate, GraphError> {
    let (capability, jobs) = capability(graph, &sp).await?;
    Ok(AppCandidate {
        service_principal: sp,
        capability,
        jobs,
    })
}

/// The apps whose display name is `name` (Graph compares it without case),
/// leaving out those in `known`: what a create whose answer was lost may
/// have made.
pub async fn new_named(
    graph: &GraphClient,
    name: &str,
    known: &[AppCandidate],
) -> Result<Vec<ServicePrincipal>, GraphError> {
    let found = graph.find_service_principals(name).await?;
    Ok(only_new_named(found, name, known))
}

fn only_new_named(
    found: Vec<ServicePrincipal>,
    name: &str,
    known: &[AppCandidate],
) -> Vec<ServicePrincipal> {
    found
        .into_iter()
        .filter(|sp| {
            sp.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .filter(|sp| !known.iter().any(|c| c.service_principal.id == sp.id))
        .collect()
}

async fn capability(
    graph: &GraphClient,
    sp: &ServicePrincipal,
) -> Result<(Capability, Vec<SynchronizationJob>), GraphError> {
    let (templates, jobs) =
        futures::future::try_join(graph.list_templates(&sp.id), graph.list_jobs(&sp.id)).await?;
    let found: Vec<String> = templates.iter().map(|t| t.id.clone()).collect();
    let scim = SCIM_TEMPLATES
        .iter()
        .find(|id| found.iter().any(|f| f == *id));
    let capability = match scim {
        Some(id) => Capability::Scim {
            template_id: (*id).to_string(),
            has_job: !jobs.is_empty(),
        },
        None if sp.tags.iter().any(|t| t == INTEGRATED_APP_TAG) => Capability::OidcRegistration,
        None => Capability::NoTemplate { found },
    };
    Ok((capability, jobs))
}

/// The app to use when the admin did not pick one: the only capable app, or
/// the only capable one that already provisions.
pub fn choose(candidates: &[AppCandidate]) -> Choice<'_> {
    let capable: Vec<&AppCandidate> = candidates
        .iter()
        .filter(|c| c.capability.can_provision())
        .collect();
    let with_job: Vec<&AppCandidate> = capable
        .iter()
        .copied()
        .filter(|c| matches!(c.capability, Capability::Scim { has_job: true, .. }))
        .collect();
    match (capable.as_slice(), with_job.as_slice()) {
        ([], _) => match candidates.first() {
            Some(c) => Choice::NotCapable(c),
            None => Choice::None,
        },
        ([one], _) | (_, [one]) => Choice::One(one),
        (many, _) => Choice::Ambiguous(many.to_vec()),
    }
}

#[derive(Debug)]
pub enum Choice<'a> {
    One(&'a AppCandidate),
    Ambiguous(Vec<&'a AppCandidate>),
    NotCapable(&'a AppCandidate),
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str, capability: Capability) -> AppCandidate {
        let sp: ServicePrincipal = serde_json::from_value(serde_json::json!({
            "id": id, "displayName": format!("Orchidea {id}"), "tags": []
        }))
        .unwrap();
        AppCandidate {
            service_principal: sp,
            capability,
            jobs: Vec::new(),
        }
    }

    fn scim(has_job: bool) -> Capability {
        Capability::Scim {
            template_id: "scim".into(),
            has_job,
        }
    }

    #[test]
    fn picks_the_only_capable_app() {
        let apps = [
            app("a", Capability::OidcRegistration),
            app("b", scim(false)),
        ];
        assert!(matches!(choose(&apps), Choice::One(c) if c.service_principal.id == "b"));
    }

    #[test]
    fn prefers_the_app_that_already_provisions() {
        let apps = [app("a", scim(false)), app("b", scim(true))];
        assert!(matches!(choose(&apps), Choice::One(c) if c.service_principal.id == "b"));
    }

    #[test]
    fn two_fresh_capable_apps_are_ambiguous() {
        let apps = [app("a", scim(false)), app("b", scim(false))];
        assert!(matches!(choose(&apps), Choice::Ambiguous(v) if v.len() == 2));
    }

    #[test]
    fn a_lost_create_is_looked_for_by_exact_name_among_new_apps_only() {
        let sp = |id: &str, name: &str| -> ServicePrincipal {
            serde_json::from_value(serde_json::json!({"id": id, "displayName": name, "tags": []}))
                .unwrap()
        };
        let known = [app("old", Capability::OidcRegistration)];
        let found = vec![
            sp("old", "Orchidea"),
            sp("prefix", "Orchidea SSO"),
            sp("new", "orchidea"),
        ];
        let new = only_new_named(found, "Orchidea", &known);
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].id, "new");
    }

    #[test]
    fn nothing_capable_names_the_first_and_why() {
        let apps = [app("a", Capability::OidcRegistration)];
        match choose(&apps) {
            Choice::NotCapable(c) => assert!(c.capability.reason().contains("OpenID Connect")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(choose(&[]), Choice::None));
    }
}
