//! The body of each step: read the current state, then write only what is
//! missing. A step that finds its work done reports `AlreadyDone`.

use std::time::{Duration, Instant};

use super::apps::{self, Capability, Choice};
use super::audience;
use super::config::SecretSource;
use super::created_earlier;
use super::error::EngineError;
use super::facts::{Facts, Reads, ScimTarget};
use super::handle::Engine;
use super::notify::Notifications;
use super::own_secrets;
use super::remembered::CreatedApp;
use crate::procedure::checklist::Status;
use crate::procedure::mapping;
use crate::procedure::step::StepId;
use crate::services::graph::{
    GraphError, JobStatusCode, SecretEntry, SecretValue, SynchronizationJob,
};
use crate::services::orchidea::pick_idp;
use crate::services::probe;

const BASE_ADDRESS: &str = "BaseAddress";
const SECRET_TOKEN: &str = "SecretToken";
const SYNC_ALL: &str = "SyncAll";
const NOTIFICATIONS: &str = "SyncNotificationSettings";

type StepResult = Result<Status, EngineError>;

/// The Graph client for this moment: right after the run created the app
/// or the job, 404/403/409 mean "not replicated yet" and are retried.
fn graph(engine: &Engine, facts: &Facts) -> crate::services::graph::GraphClient {
    if Reads::fresh(facts.reads.created) {
        engine.cfg.graph.settling()
    } else {
        engine.cfg.graph.clone()
    }
}

pub(super) async fn run(engine: &Engine, facts: &mut Facts, step: StepId) -> StepResult {
    match step {
        StepId::CreateSecret => create_secret(engine, facts).await,
        StepId::ChooseIdp => choose_idp(engine, facts),
        StepId::CopyUrlAndSecret => copy_and_probe(engine, facts).await,
        StepId::OpenEnterpriseApp => open_app(engine, facts).await,
        StepId::OpenProvisioning => open_provisioning(facts),
        StepId::AutomaticMode => automatic_mode(engine, facts).await,
        StepId::TestConnection => test_connection(engine, facts).await,
        StepId::SaveCredentials => save_credentials(engine, facts).await,
        StepId::OpenMappings => open_mappings(engine, facts).await,
        StepId::OpenUserMapping => open_user_mapping(facts),
        StepId::KeepFiveAttributes
        | StepId::EditUserName
        | StepId::UserNameFromMail
        | StepId::EditExternalId
        | StepId::ExternalIdFromObjectId => apply_mapping(engine, facts, step).await,
        StepId::ChooseScope => choose_scope(engine, facts).await,
        StepId::SaveSettings => save_settings(engine, facts).await,
        StepId::StartProvisioning => start(engine, facts).await,
    }
}

pub(super) fn job_is_active(job: &SynchronizationJob) -> bool {
    job.status
        .as_ref()
        .is_some_and(|s| s.code == JobStatusCode::Active)
}

fn require(facts: &Facts, step: StepId, needs: StepId) -> Result<(), EngineError> {
    if facts.checklist.status(needs).is_complete() {
        Ok(())
    } else {
        Err(EngineError::Prerequisite {
            step: step.number(),
            needs: needs.number(),
        })
    }
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

/// Finds the app, its job and its saved settings without writing anything,
/// so step 1 can tell whether Entra already holds a working secret.
pub(super) async fn discover(engine: &Engine, facts: &mut Facts) -> Result<(), EngineError> {
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
    let (jobs, saved) = match known {
        Some(jobs) => (jobs, graph.get_secrets(&app.id).await),
        None => {
            let (jobs, saved) =
                futures::future::join(graph.list_jobs(&app.id), graph.get_secrets(&app.id)).await;
            (jobs?, saved)
        }
    };
    let saved = saved_or_unknown(facts, saved)?;
    facts.job = jobs.into_iter().next();
    if let Some(job) = &facts.job {
        let view = super::JobView::from_job(job);
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
    facts.saved_credentials_work = match (&facts.job, has_token) {
        // Where Test Connection is missing, a saved token is taken as
        // working (the first cycle shows it), or every run would replace it.
        (Some(job), true) => validate(engine, graph, &app.id, &job.id, None)
            .await
            .is_ok(),
        _ => false,
    };
    facts.reads.discovered = Some((app.id.clone(), now));
    Ok(())
}

/// The saved secrets: what was read or written within [`super::FRESH`],
/// else read now.
async fn current_secrets(
    engine: &Engine,
    facts: &mut Facts,
    app: &str,
) -> Result<Vec<SecretEntry>, EngineError> {
    if let Some((at, entries)) = &facts.reads.secrets
        && Reads::fresh(Some(*at))
    {
        return Ok(entries.clone());
    }
    let read = graph(engine, facts).get_secrets(app).await;
    let entries = saved_or_unknown(facts, read)?;
    facts.reads.secrets = Some((Instant::now(), entries.clone()));
    Ok(entries)
}

/// `GET …/synchronization/secrets` is not in the Graph v1.0 reference (the
/// beta one and the Entra docs use it): when it fails, the saved settings
/// are unknown (read as none) rather than the run failing. A 401 or a lost
/// connection still stops: nothing else would work either.
fn saved_or_unknown(
    facts: &mut Facts,
    read: Result<Vec<SecretEntry>, crate::services::graph::GraphError>,
) -> Result<Vec<SecretEntry>, EngineError> {
    use crate::services::graph::GraphError as G;
    match read {
        Ok(entries) => {
            facts.secrets_unread = None;
            Ok(entries)
        }
        Err(e @ (G::Unauthorized { .. } | G::Transport(_))) => Err(e.into()),
        Err(e) => {
            let reason = unread_reason(&e);
            let warning = format!(
                "Could not read the saved provisioning settings ({reason}; GET …/synchronization/secrets is not in the Graph v1.0 reference): the wizard treats them as unknown and writes its own."
            );
            if !facts.warnings.contains(&warning) {
                facts.warnings.push(warning);
            }
            facts.secrets_unread = Some(reason);
            Ok(Vec::new())
        }
    }
}

fn unread_reason(e: &crate::services::graph::GraphError) -> String {
    use crate::services::graph::GraphError as G;
    match e {
        G::Forbidden { code, .. } => format!("Graph answered 403 {code}"),
        G::NotFound { .. } => "Graph answered 404".into(),
        G::Api { status, code, .. } => format!("Graph answered {status} {code}"),
        G::Throttled { .. } => "Graph kept answering 429/503".into(),
        other => other.to_string(),
    }
}

/// The sentence a step adds when it wrote settings it could not read first.
fn unread_note(facts: &Facts) -> String {
    match &facts.secrets_unread {
        Some(reason) => format!(
            " The saved settings could not be read first ({reason}), and Entra replaces the whole set: settings the wizard does not manage (such as SkipOutOfScopeDeletions) were not carried over; check them in the Entra admin center (Provisioning, Settings)."
        ),
        None => String::new(),
    }
}

/// Saves `backup` before a write; a backup that cannot be written stops
/// the write (nothing is replaced without a copy of what was there).
fn take_backup(
    engine: &Engine,
    facts: &mut Facts,
    mut backup: crate::engine::backup::Backup,
) -> Result<(), EngineError> {
    let Some(dir) = &engine.cfg.backup_dir else {
        return Ok(());
    };
    backup.tenant_id = engine.cfg.tenant_id.clone();
    crate::engine::backup::save(dir, &mut backup).map_err(|e| {
        EngineError::Input(format!(
            "Could not save a backup in {} before writing to Entra ({e}); nothing was written. Free some space or check the folder's permissions.",
            dir.display()
        ))
    })?;
    facts.backups.push(backup.line());
    Ok(())
}

fn backup_settings(
    engine: &Engine,
    facts: &mut Facts,
    current: &[SecretEntry],
    reason: &str,
) -> Result<(), EngineError> {
    let (app, job) = job_ids(facts)?;
    let b = crate::engine::backup::Backup::settings(
        engine.cfg.graph.base().as_str(),
        &app,
        &job,
        current,
        reason,
    );
    take_backup(engine, facts, b)
}

/// Puts `backup` back and returns what changed (for a schema, the mapping
/// lines). What is there now is backed up first, so a restore can be undone.
pub(super) async fn restore(
    engine: &Engine,
    facts: &mut Facts,
    backup: &crate::engine::backup::Backup,
    dry_run: bool,
) -> Result<Vec<String>, EngineError> {
    use crate::engine::backup::Kind;
    let here = engine.cfg.graph.base().as_str().trim_end_matches('/');
    if !crate::engine::backup::same_graph(&backup.graph_url, here) {
        return Err(EngineError::Input(format!(
            "Backup {} was taken against {}, not {here}: it belongs to another tenant or cloud.",
            backup.id, backup.graph_url
        )));
    }
    let tenant = engine.cfg.tenant_id.as_deref();
    if !backup.belongs(tenant, None, None) {
        return Err(EngineError::Input(format!(
            "This backup belongs to another tenant: {} was taken in tenant {}, and you are signed in to {}. Nothing was restored; `orchidea-wizard-cli restore` lists this tenant's backups.",
            backup.id,
            backup.tenant_id.as_deref().unwrap_or("?"),
            tenant.unwrap_or("an unknown tenant (sign in again)")
        )));
    }
    if let Some(known) = &facts.job
        && known.id != backup.job_id
    {
        return Err(EngineError::Input(format!(
            "This backup is of another provisioning job: {} was taken of job {}, and this app's job is {}. Nothing was restored.",
            backup.id, backup.job_id, known.id
        )));
    }
    let (app, job) = (&backup.service_principal_id, &backup.job_id);
    let g = graph(engine, facts);
    match backup.kind {
        Kind::Schema => {
            let saved = backup.schema.as_ref().ok_or_else(|| {
                EngineError::Input(format!("Backup {} holds no schema.", backup.id))
            })?;
            let raw = g.get_schema_raw(app, job).await?;
            let undo = crate::engine::backup::Backup::schema_raw(
                here,
                app,
                job,
                &raw,
                &format!("before restoring {}", backup.id),
            )
            .map_err(EngineError::Input)?;
            let current = undo.schema.clone().unwrap_or_default();
            let diff = crate::engine::backup::schema_diff(&current, saved);
            if current == *saved || dry_run {
                return Ok(diff);
            }
            let body = backup.put_body().ok_or_else(|| {
                EngineError::Input(format!("Backup {} holds no schema.", backup.id))
            })?;
            take_backup(engine, facts, undo)?;
            g.put_schema_raw(app, job, body).await?;
            let now = g.get_schema(app, job).await?;
            if now != *saved {
                return Err(EngineError::NotPersisted(format!(
                    "after restoring {}, Graph returns another schema",
                    backup.id
                )));
            }
            facts.mapping = None;
            facts.changes.push(format!(
                "Entra: restored the schema from backup {}.",
                backup.id
            ));
            Ok(diff)
        }
        Kind::Settings => {
            let current = g.get_secrets(app).await?;
            let now: Vec<(String, String)> = current
                .iter()
                .filter_map(|e| e.plain_value().map(|v| (e.key.clone(), v.to_string())))
                .collect();
            let mut diff: Vec<String> = now
                .iter()
                .filter(|kv| !backup.settings.contains(kv))
                .map(|(k, v)| format!("- {k} = {v}"))
                .collect();
            diff.extend(
                backup
                    .settings
                    .iter()
                    .filter(|kv| !now.contains(kv))
                    .map(|(k, v)| format!("+ {k} = {v}")),
            );
            if diff.is_empty() || dry_run {
                return Ok(diff);
            }
            if facts.job.as_ref().is_none_or(|j| &j.id != job) {
                discover(engine, facts).await?;
            }
            let held = facts.scim.as_ref().and_then(|s| s.secret.clone());
            let renewed = held.is_none();
            let secret = match held {
                Some(secret) => secret,
                None => renew_secret(engine, facts).await?,
            };
            let mut entries: Vec<SecretEntry> = backup
                .settings
                .iter()
                .map(|(k, v)| SecretEntry::plain(k.clone(), v.clone()))
                .collect();
            entries.push(SecretEntry::sensitive(SECRET_TOKEN, secret));
            backup_settings(
                engine,
                facts,
                &current,
                &format!("before restoring {}", backup.id),
            )?;
            if renewed {
                own_secrets::sending(engine, facts);
            }
            put_secrets(engine, facts, app, entries).await?;
            facts.changes.push(format!(
                "Entra: restored the settings from backup {}.",
                backup.id
            ));
            // Revocations go to the report's changes, failures to its warnings.
            if renewed && let Some(target) = facts.scim.clone() {
                own_secrets::after_save(engine, facts, target.url.as_str(), false).await;
            }
            Ok(diff)
        }
    }
}

/// Writes the whole secret set and remembers it as the current state.
async fn put_secrets(
    engine: &Engine,
    facts: &mut Facts,
    app: &str,
    entries: Vec<SecretEntry>,
) -> Result<(), EngineError> {
    graph(engine, facts).put_secrets(app, &entries).await?;
    facts.reads.secrets = Some((Instant::now(), entries));
    // What is saved now is what was just sent.
    facts.secrets_unread = None;
    Ok(())
}

fn saved_plain(saved: &[SecretEntry], key: &str) -> Option<String> {
    saved
        .iter()
        .find(|e| e.key == key)
        .and_then(|e| match &e.value {
            SecretValue::Plain(v) => Some(v.clone()),
            _ => None,
        })
}

/// Entra already provisions to `url` with a secret that still works.
fn entra_holds(facts: &Facts, url: &str) -> bool {
    facts.saved_credentials_work
        && facts
            .saved_base_address
            .as_deref()
            .is_some_and(|saved| same_url(saved, url))
}

async fn create_secret(engine: &Engine, facts: &mut Facts) -> StepResult {
    match &engine.cfg.secret_source {
        SecretSource::Manual(manual) => {
            discover(engine, facts).await?;
            let url = manual.scim_url.to_string();
            facts.scim = Some(ScimTarget {
                url: manual.scim_url.clone(),
                secret: Some(manual.secret.clone()),
            });
            Ok(if entra_holds(facts, &url) {
                Status::AlreadyDone(format!(
                    "Entra already provisions to {url} with a secret that works."
                ))
            } else {
                Status::Manual(format!(
                    "Created by you in Orchidea's web UI (secret {}).",
                    manual.secret.masked()
                ))
            })
        }
        SecretSource::AdminApi { admin, idp } => {
            // Independent reads, asked together with Entra's; the IDPs go
            // unused when Entra already holds a working secret.
            let orchidea = async {
                futures::future::try_join(admin.workspace(), admin.list_idps())
                    .await
                    .map_err(EngineError::from)
            };
            let ((), (workspace, idps)) =
                futures::future::try_join(discover(engine, facts), orchidea).await?;
            let url = workspace.scim_url.to_string();
            if entra_holds(facts, &url) {
                facts.scim = Some(ScimTarget {
                    url: workspace.scim_url,
                    secret: None,
                });
                return Ok(Status::AlreadyDone(format!(
                    "Entra already provisions to {url} with a secret that works; no new secret made."
                )));
            }
            let chosen = pick_idp(&idps, idp.as_deref())?.clone();
            let created =
                own_secrets::create(engine, facts, admin.as_ref(), &chosen.id, &url).await?;
            let detail = format!(
                "Created SCIM secret {} in workspace \"{}\".",
                created.secret.masked(),
                workspace.name
            );
            facts.changes.push(format!(
                "Orchidea: created SCIM secret {} (id {}) for IDP \"{}\".",
                created.secret.masked(),
                created.id,
                chosen.name
            ));
            facts.scim = Some(ScimTarget {
                url: created.scim_url,
                secret: Some(created.secret),
            });
            facts.idp = Some(chosen);
            Ok(Status::Done(detail))
        }
        SecretSource::NotNeeded => Err(EngineError::Input(
            "This command only reads the provisioning job; set up the SCIM secret with `orchidea-wizard-cli run`.".into(),
        )),
    }
}

fn choose_idp(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::ChooseIdp, StepId::CreateSecret)?;
    let already = matches!(
        facts.checklist.status(StepId::CreateSecret),
        Status::AlreadyDone(_)
    );
    Ok(match (&engine.cfg.secret_source, &facts.idp) {
        _ if already => {
            Status::AlreadyDone("Chosen when the secret Entra uses was created.".into())
        }
        (SecretSource::Manual(_), _) => {
            Status::Manual("Chosen by you in Orchidea's web UI.".into())
        }
        (_, Some(idp)) => Status::Done(format!("New users get the IDP \"{}\".", idp.name)),
        (_, None) => Status::Done("Workspace default IDP.".into()),
    })
}

async fn copy_and_probe(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::CopyUrlAndSecret, StepId::CreateSecret)?;
    let Some(target) = facts.scim.clone() else {
        return Err(EngineError::Prerequisite {
            step: "1c",
            needs: "1a",
        });
    };
    let Some(secret) = &target.secret else {
        return Ok(Status::AlreadyDone(format!(
            "Entra already holds the URL {} and a working secret.",
            target.url
        )));
    };
    let report = probe::probe(&engine.cfg.http, &target.url, secret, &engine.cfg.probe).await;
    let passed = report.passed();
    let failure = report
        .first_failure()
        .map(|f| (f.cause().to_string(), f.fix().to_string()));
    let checks = report.checks.len();
    // Step 9 disables the group mapping when Orchidea serves no groups.
    facts.mapping_options.scim_groups = report.groups;
    facts.probe = Some(report);
    match failure {
        Some((cause, fix)) if !passed => Err(EngineError::Probe { cause, fix }),
        _ => Ok(Status::Done(format!(
            "URL {} and secret {} ready (kept in memory only); SCIM pre-flight passed {checks} checks.",
            target.url,
            secret.masked()
        ))),
    }
}

async fn open_app(engine: &Engine, facts: &mut Facts) -> StepResult {
    if facts.candidates.is_empty() {
        discover(engine, facts).await?;
    }
    let creates = engine.cfg.create_app || facts.create_app;
    if facts.app.is_none() {
        let found = match &engine.cfg.app_id {
            Some(id) => match facts
                .candidates
                .iter()
                .find(|c| &c.service_principal.id == id)
            {
                Some(c) => Err(EngineError::AppCannotProvision {
                    name: c.name().to_string(),
                    reason: c.capability.reason().to_string(),
                }),
                None => Err(EngineError::NoApp { name: id.clone() }),
            },
            None => match apps::choose(&facts.candidates) {
                Choice::One(c) => Ok(c.service_principal.clone()),
                Choice::Ambiguous(many) => Err(EngineError::AmbiguousApp {
                    names: many
                        .iter()
                        .map(|c| format!("\"{}\" ({})", c.name(), c.service_principal.id))
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
                Choice::NotCapable(c) => {
                    let none_fits = EngineError::AppCannotProvision {
                        name: c.name().to_string(),
                        reason: c.capability.reason().to_string(),
                    };
                    created_or_create(engine, facts, creates, none_fits).await
                }
                Choice::None => {
                    let none_fits = EngineError::NoApp {
                        name: engine.cfg.app_name.clone(),
                    };
                    created_or_create(engine, facts, creates, none_fits).await
                }
            },
        };
        facts.app = Some(found?);
    }
    // Re-read the job and saved settings of the app now chosen: the admin
    // may have picked another app than the one step 1a looked at.
    discover(engine, facts).await?;
    let Some(app) = facts.app.clone() else {
        return Err(EngineError::NoApp {
            name: engine.cfg.app_name.clone(),
        });
    };
    let candidate = facts
        .candidates
        .iter()
        .find(|c| c.service_principal.id == app.id);
    let name = app.display_name.clone().unwrap_or_default();
    let created = facts.created_app.as_ref() == Some(&app.id);
    match candidate.map(|c| &c.capability) {
        Some(Capability::Scim {
            template_id,
            has_job,
        }) => {
            facts.template_ids = vec![template_id.clone()];
            let text = if created {
                format!(
                    "Created \"{name}\" ({}) from the non-gallery template; it can provision over SCIM.",
                    app.id
                )
            } else {
                format!("\"{name}\" ({}) can provision over SCIM.", app.id)
            };
            Ok(if *has_job {
                Status::AlreadyDone(text)
            } else {
                Status::Done(text)
            })
        }
        Some(other) => Err(EngineError::AppCannotProvision {
            name,
            reason: other.reason().to_string(),
        }),
        None => {
            // Chosen but not among the apps read (a list that lags):
            // the capability was checked when it was chosen.
            facts.template_ids = vec![apps::SCIM_TEMPLATES[0].to_string()];
            Ok(Status::Done(format!("\"{name}\" ({}) selected.", app.id)))
        }
    }
}

/// No listed app fits: the app the wizard created earlier (waited for
/// while Entra replicates it), else a new one when the admin asked for it.
async fn created_or_create(
    engine: &Engine,
    facts: &mut Facts,
    creates: bool,
    none_fits: EngineError,
) -> Result<crate::services::graph::ServicePrincipal, EngineError> {
    if let Some(sp) = created_earlier::wait_for(engine, facts).await? {
        return Ok(sp);
    }
    if creates {
        create_app(engine, facts).await
    } else {
        Err(none_fits)
    }
}

/// Creates the app from the cloud's non-gallery template — once, however
/// the request fails — and waits until Entra shows it: a new app is
/// missing from lists and answers 404 for a while (replication; support
/// article `404-not-found-error-manage-objects-microsoft-graph.md`). The
/// app and what it can do join the candidates, so step 2 goes on as for
/// an app that existed.
async fn create_app(
    engine: &Engine,
    facts: &mut Facts,
) -> Result<crate::services::graph::ServicePrincipal, EngineError> {
    let name = engine.cfg.app_name.clone();
    let sp = create_app_once(engine, facts, &name).await?;
    facts.created_app = Some(sp.id.clone());
    facts.reads.created = Some(Instant::now());
    let waited_s = engine.cfg.graph.retry_policy().settle_within.as_secs();
    engine.report(
        facts,
        StepId::OpenEnterpriseApp,
        Status::Running(format!(
            "Created \"{name}\" ({}); waiting for Entra to replicate it (up to {waited_s} s)…",
            sp.id
        )),
    );
    let settling = engine.cfg.graph.settling();
    let read = created_earlier::replicated(engine, apps::created(&settling, sp.clone())).await;
    let candidate = match read {
        Ok(c) => c,
        // A 403 that outlasts the wait is a missing permission: it keeps
        // its own message.
        Err(GraphError::NotFound { .. }) => {
            return Err(EngineError::NotReplicated {
                name,
                id: sp.id,
                waited_s,
            });
        }
        Err(e) => return Err(e.into()),
    };
    created_earlier::seen(facts, candidate);
    Ok(sp)
}

/// `instantiate`, never repeated blindly: after a lost answer (dropped
/// connection, server error) the apps of that name are looked for while
/// Entra replicates, and a new one is used. If none appears in time the
/// step stops rather than risk a second app.
async fn create_app_once(
    engine: &Engine,
    facts: &mut Facts,
    name: &str,
) -> Result<crate::services::graph::ServicePrincipal, EngineError> {
    let graph = &engine.cfg.graph;
    let template = engine.cfg.cloud.non_gallery_template_id();
    // Kept before sending: if the answer never comes (lost, or the
    // wizard is closed), the next run looks for the app instead.
    facts.created_earlier = Some(CreatedApp::attempt(name, engine.cfg.tenant_id.as_deref()));
    engine.save_run_state(facts);
    // Sent once: a lost answer is looked for by name below, never repeated.
    let error = match graph.instantiate_template(template, name).await {
        Ok(made) => {
            facts.changes.push(format!(
                "Entra: created enterprise app \"{name}\" ({}) from the non-gallery template {template}.",
                made.service_principal.id
            ));
            created_earlier::answered(
                engine,
                facts,
                &made.service_principal,
                made.application.app_id.as_deref(),
            );
            return Ok(made.service_principal);
        }
        Err(e) if e.outcome_unknown() => e,
        Err(e) => {
            // Refused: nothing was created.
            facts.created_earlier = None;
            engine.save_run_state(facts);
            return Err(e.into());
        }
    };
    let policy = graph.retry_policy().clone();
    engine.report(
        facts,
        StepId::OpenEnterpriseApp,
        Status::Running(format!(
            "Entra's answer to creating \"{name}\" was lost; looking for it by name while Entra replicates (up to {} s)…",
            policy.settle_within.as_secs()
        )),
    );
    let found =
        created_earlier::named_within(graph, name, &facts.candidates, policy.settle_within).await?;
    match found.as_slice() {
        [one] => {
            tracing::warn!("creating the app: {error}; it exists, so the create went through");
            created_earlier::answered(engine, facts, one, None);
            facts.changes.push(format!(
                "Entra: created enterprise app \"{name}\" ({}) from the non-gallery template {template} (the answer was lost; found by name).",
                one.id
            ));
            Ok(one.clone())
        }
        [] => Err(EngineError::CreateUnconfirmed {
            name: name.to_string(),
            cause: error.to_string(),
            waited_s: policy.settle_within.as_secs(),
        }),
        many => Err(created_earlier::ambiguous(name, many)),
    }
}

fn open_provisioning(facts: &mut Facts) -> StepResult {
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

async fn automatic_mode(engine: &Engine, facts: &mut Facts) -> StepResult {
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
    let job = create_job_once(engine, facts, &app_id, &template).await?;
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
async fn renew_secret(engine: &Engine, facts: &mut Facts) -> Result<crate::Secret, EngineError> {
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

pub(super) fn app_id(facts: &Facts) -> Result<String, EngineError> {
    facts
        .app
        .as_ref()
        .map(|a| a.id.clone())
        .ok_or(EngineError::Prerequisite {
            step: "3",
            needs: "2",
        })
}

pub(super) fn job_ids(facts: &Facts) -> Result<(String, String), EngineError> {
    let app = app_id(facts)?;
    let job = facts
        .job
        .as_ref()
        .map(|j| j.id.clone())
        .ok_or(EngineError::Prerequisite {
            step: "5",
            needs: "4",
        })?;
    Ok((app, job))
}

/// What Test Connection could say.
enum Tested {
    Passed,
    /// The cloud has no Test Connection; the sentence says what instead.
    NotAvailable(&'static str),
}

/// Test Connection (`validateCredentials`). Microsoft's reference lists it
/// for Global and US Government only; where it is missing, an answer that
/// the call does not exist (404, 405, 501) means "not tested". A 400 is
/// still the SCIM endpoint refusing the credentials, in every cloud.
async fn validate(
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
        (Err(e @ GraphError::CredentialValidation { .. }), _) => Err(e),
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

async fn test_connection(engine: &Engine, facts: &mut Facts) -> StepResult {
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
            facts.test_connection = Some(Err(note.to_string()));
            if !facts.warnings.iter().any(|w| w == note) {
                facts.warnings.push(note.to_string());
            }
            return Ok(Status::Done(format!("Not tested: {note}")));
        }
        Err(e) => {
            facts.test_connection = Some(Err(e.to_string()));
            return Err(e.into());
        }
    }
    Ok(if entra_holds(facts, &url) {
        Status::AlreadyDone(format!("The saved credentials for {url} still work."))
    } else {
        Status::Done(format!("Entra reached {url} and the secret was accepted."))
    })
}

async fn save_credentials(engine: &Engine, facts: &mut Facts) -> StepResult {
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

/// The step's detail with what happened to older SCIM secrets after it.
fn with_lines(status: Status, lines: &[String]) -> Status {
    if lines.is_empty() {
        status
    } else {
        status.with_note(&lines.join(" "))
    }
}

/// The full set to PUT: Graph replaces the whole set, so every key already
/// there is sent back. Masked values other than the token cannot be re-sent
/// (Graph returns them as "*"); none of the documented keys we keep are.
fn merged_secrets(
    current: &[SecretEntry],
    url: &str,
    secret: &crate::Secret,
    plain: &[(&str, String)],
) -> Vec<SecretEntry> {
    let ours = |key: &str| {
        key == BASE_ADDRESS || key == SECRET_TOKEN || plain.iter().any(|(k, _)| *k == key)
    };
    let mut out: Vec<SecretEntry> = current
        .iter()
        .filter(|e| !ours(&e.key))
        .filter(|e| matches!(e.value, SecretValue::Plain(_)))
        .cloned()
        .collect();
    out.push(SecretEntry {
        key: BASE_ADDRESS.into(),
        value: SecretValue::Plain(url.to_string()),
    });
    out.push(SecretEntry {
        key: SECRET_TOKEN.into(),
        value: SecretValue::Sensitive(secret.clone()),
    });
    for (key, value) in plain {
        out.push(SecretEntry {
            key: (*key).into(),
            value: SecretValue::Plain(value.clone()),
        });
    }
    out
}

async fn open_mappings(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::OpenMappings, StepId::AutomaticMode)?;
    let (app, job) = job_ids(facts)?;
    let schema = graph(engine, facts).get_schema(&app, &job).await?;
    let plan = mapping::plan(&schema, &facts.mapping_options)?;
    let noop = plan.is_noop();
    let count = plan.changes.len();
    facts.schema_before = Some(schema);
    facts.mapping = Some(plan);
    Ok(if noop {
        Status::AlreadyDone("The mappings already match Orchidea's specification.".into())
    } else {
        Status::Done(format!("Schema read; {count} changes needed."))
    })
}

fn open_user_mapping(facts: &mut Facts) -> StepResult {
    require(facts, StepId::OpenUserMapping, StepId::OpenMappings)?;
    let Some(plan) = &facts.mapping else {
        return Err(EngineError::Prerequisite {
            step: "8",
            needs: "7",
        });
    };
    let text = format!("\"{}\" (rule {}).", plan.mapping_name, plan.rule_id);
    Ok(if plan.is_noop() {
        Status::AlreadyDone(text)
    } else {
        Status::Done(text)
    })
}

/// Steps 9–13 stage edits that the portal saves with one "Ok"; the wizard
/// writes the whole schema once and reports each step after it is read back.
async fn apply_mapping(engine: &Engine, facts: &mut Facts, step: StepId) -> StepResult {
    require(facts, step, StepId::OpenUserMapping)?;
    let group = [
        StepId::KeepFiveAttributes,
        StepId::EditUserName,
        StepId::UserNameFromMail,
        StepId::EditExternalId,
        StepId::ExternalIdFromObjectId,
    ];
    let mut plan = facts.mapping.clone().ok_or(EngineError::Prerequisite {
        step: step.number(),
        needs: "7",
    })?;
    let mut wrote = !plan.is_noop();
    let mut replaced = None;
    if wrote {
        let (app, job) = job_ids(facts)?;
        // Graph documents no ETag or If-Match on the schema, and the PUT
        // replaces all of it: re-read right before writing, so another
        // admin's change made while the diff was on screen is never lost.
        let raw = graph(engine, facts).get_schema_raw(&app, &job).await?;
        let current: serde_json::Value = serde_json::from_slice(&raw).map_err(|e| {
            crate::services::graph::GraphError::UnexpectedBody {
                what: "the attribute mappings".into(),
                detail: e.to_string(),
            }
        })?;
        if facts.schema_before.as_ref() != Some(&current) {
            let fresh = mapping::plan(&current, &facts.mapping_options)?;
            facts.schema_before = Some(current);
            facts.mapping = Some(fresh.clone());
            if !fresh.is_noop() {
                return Err(EngineError::SchemaChanged(fresh.diff_lines()));
            }
            // The other admin made exactly these edits: nothing to write.
            plan = fresh;
            wrote = false;
        } else {
            replaced = Some(raw);
        }
    }
    if let Some(raw) = replaced {
        let (app, job) = job_ids(facts)?;
        // The copy is of what the PUT replaces, read just now.
        let b = crate::engine::backup::Backup::schema_raw(
            engine.cfg.graph.base().as_str(),
            &app,
            &job,
            &raw,
            "before step 9 (mappings)",
        )
        .map_err(EngineError::Input)?;
        take_backup(engine, facts, b)?;
        graph(engine, facts)
            .put_schema(&app, &job, &plan.edited)
            .await?;
        let reread = graph(engine, facts).get_schema(&app, &job).await?;
        let check = mapping::plan(&reread, &facts.mapping_options)?;
        if !check.is_noop() {
            return Err(EngineError::NotPersisted(check.diff_lines().join("; ")));
        }
        let summary: Vec<String> = group.iter().flat_map(|s| step_summary(&plan, *s)).collect();
        facts.changes.push(format!(
            "Entra: updated \"{}\": {}.",
            plan.mapping_name,
            summary.join("; ")
        ));
    }
    let mut mine = Status::Pending;
    for s in group {
        let changes = step_summary(&plan, s);
        let mut status = match s {
            _ if changes.is_empty() && !wrote => {
                Status::AlreadyDone("Already as specified.".into())
            }
            StepId::EditUserName => Status::Done("userName mapping located.".into()),
            StepId::EditExternalId => Status::Done("externalId mapping located.".into()),
            _ if changes.is_empty() => Status::AlreadyDone("Already as specified.".into()),
            _ => Status::Done(changes.join("; ")),
        };
        // Step 9 is where the group mapping would have been disabled.
        if s == StepId::KeepFiveAttributes
            && let Some(note) = groups_unchecked(facts)
        {
            if let Status::Done(text) | Status::AlreadyDone(text) = &mut status {
                text.push(' ');
                text.push_str(&note);
            }
            if !facts.warnings.contains(&note) {
                facts.warnings.push(note);
            }
        }
        if s == step {
            mine = status;
        } else {
            engine.report(facts, s, status);
        }
    }
    Ok(mine)
}

/// When nothing told whether Orchidea serves groups (no probe: Entra
/// already held a working secret, or `/ResourceTypes` could not be read)
/// and the schema has an enabled group mapping, which step 9 left alone.
fn groups_unchecked(facts: &Facts) -> Option<String> {
    if facts.mapping_options.scim_groups.is_some() {
        return None;
    }
    let schema = facts.schema_before.as_ref()?;
    let name = schema["synchronizationRules"]
        .as_array()?
        .iter()
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .find(|m| mapping::is_group_mapping(m) && m["enabled"] != serde_json::Value::Bool(false))
        .map(|m| {
            m["name"]
                .as_str()
                .unwrap_or("the group mapping")
                .to_string()
        })?;
    let why = match facts.scim.as_ref().map(|t| t.secret.is_some()) {
        Some(false) => {
            "Entra already held a working SCIM secret, so the pre-flight that reads Orchidea's /ResourceTypes did not run"
        }
        _ => "the pre-flight could not read Orchidea's /ResourceTypes",
    };
    Some(format!(
        "Could not check whether Orchidea serves groups ({why}); the group mapping \"{name}\" was left as it is."
    ))
}

/// What one of steps 9–13 changed, short enough for a checklist line:
/// removals are listed by target only (the full diff is in the report).
fn step_summary(plan: &mapping::MappingPlan, step: StepId) -> Vec<String> {
    let (removed, other): (Vec<_>, Vec<_>) = plan
        .changes_for(step)
        .partition(|c| c.kind == mapping::ChangeKind::Remove);
    let mut out: Vec<String> = other.iter().map(ToString::to_string).collect();
    if !removed.is_empty() {
        let names: Vec<&str> = removed.iter().map(|c| c.target.as_str()).collect();
        out.insert(
            0,
            format!("Removed {} mappings: {}", names.len(), names.join(", ")),
        );
    }
    out
}

async fn choose_scope(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::ChooseScope, StepId::SaveCredentials)?;
    let wanted = facts.scope.unwrap_or(engine.cfg.scope);
    let app = app_id(facts)?;
    let saved_notes = facts
        .saved_notifications
        .as_deref()
        .and_then(Notifications::from_secret_value);
    // The admin's mail is only needed for the default; asked beside the count.
    let need_me = facts.notifications.is_none() && saved_notes.is_none();
    let graph = &engine.cfg.graph;
    let (audience, me) = futures::join!(audience::count(graph, &app, wanted), async {
        if need_me {
            Some(graph.me().await)
        } else {
            None
        }
    });
    let audience = audience?;
    let counts = audience.summary();
    facts.audience = Some(audience);
    let notifications = match (&facts.notifications, saved_notes, me) {
        (Some(n), _, _) => n.clone(),
        (None, Some(saved), _) => saved,
        (None, None, Some(Ok(me))) => Notifications::default_for(me.mail),
        (None, None, Some(Err(e))) => {
            facts.warnings.push(format!(
                "Could not read your e-mail address for failure notifications ({e}). Type one on the scope screen (or --notify-email)."
            ));
            Notifications::default_for(None)
        }
        (None, None, None) => Notifications::default_for(None),
    };
    let notes = notifications.summary();
    facts.notifications = Some(notifications);
    let current = facts.saved_sync_all.as_deref();
    Ok(if current == Some(wanted.sync_all()) {
        Status::AlreadyDone(format!(
            "{} (already set): {counts}; {notes}.",
            wanted.label()
        ))
    } else {
        Status::Done(format!(
            "{}: {counts}; {notes} (saved in step 15).",
            wanted.label()
        ))
    })
}

async fn save_settings(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::SaveSettings, StepId::ChooseScope)?;
    let wanted = facts.scope.unwrap_or(engine.cfg.scope);
    let notifications = facts
        .notifications
        .clone()
        .unwrap_or_else(|| Notifications::default_for(None));
    let (app, job_id) = job_ids(facts)?;
    let current = current_secrets(engine, facts, &app).await?;
    let saved_scope = saved_plain(&current, SYNC_ALL);
    let saved_notes = saved_plain(&current, NOTIFICATIONS);
    let notes_match = saved_notes
        .as_deref()
        .and_then(Notifications::from_secret_value)
        .as_ref()
        == Some(&notifications);
    if saved_scope.as_deref() == Some(wanted.sync_all()) && notes_match {
        facts.saved_sync_all = saved_scope;
        facts.saved_notifications = saved_notes;
        return Ok(Status::AlreadyDone(format!(
            "{} is saved; {}.",
            wanted.label(),
            notifications.summary()
        )));
    }
    let target = facts.scim.clone().ok_or(EngineError::SecretNeeded)?;
    let renewed = target.secret.is_none();
    let secret = match target.secret {
        Some(secret) => secret,
        None => renew_secret(engine, facts).await?,
    };
    let url = saved_plain(&current, BASE_ADDRESS).unwrap_or_else(|| target.url.to_string());
    let notes_value = notifications.to_secret_value();
    let plain = [
        (SYNC_ALL, wanted.sync_all().to_string()),
        (NOTIFICATIONS, notes_value.clone()),
    ];
    let entries = merged_secrets(&current, &url, &secret, &plain);
    backup_settings(engine, facts, &current, "before step 15 (save settings)")?;
    let unread = unread_note(facts);
    if renewed {
        own_secrets::sending(engine, facts);
    }
    put_secrets(engine, facts, &app, entries).await?;
    let revoked = if renewed {
        own_secrets::after_save(engine, facts, target.url.as_str(), false).await
    } else {
        Vec::new()
    };
    facts.saved_sync_all = Some(wanted.sync_all().to_string());
    facts.saved_notifications = Some(notes_value);
    facts.changes.push(format!(
        "Entra: saved scope \"{}\" (SyncAll={}) and notifications: {}.",
        wanted.label(),
        wanted.sync_all(),
        notifications.summary()
    ));
    // Read the threshold back: the job shows the one in force.
    let confirm = match graph(engine, facts).get_job(&app, &job_id).await {
        Ok(job) => {
            let (text, warn) = super::notify::confirm_threshold(
                notifications.delete_threshold,
                &job.synchronization_job_settings,
            );
            if warn && !facts.warnings.contains(&text) {
                facts.warnings.push(text.clone());
            }
            text
        }
        Err(e) => {
            format!("The job could not be read back to confirm the deletion threshold ({e}).")
        }
    };
    let status = Status::Done(format!(
        "Saved: {}; {}. {confirm}{unread}",
        wanted.label(),
        notifications.summary()
    ));
    Ok(with_lines(status, &revoked))
}

async fn start(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::StartProvisioning, StepId::SaveSettings)?;
    require(
        facts,
        StepId::StartProvisioning,
        StepId::ExternalIdFromObjectId,
    )?;
    let (app, job_id) = job_ids(facts)?;
    let graph = &graph(engine, facts);
    let job = match &facts.job {
        Some(job) if Reads::fresh(facts.reads.job) && job.id == job_id => job.clone(),
        _ => graph.get_job(&app, &job_id).await?,
    };
    if job_is_active(&job) {
        let text = format!("Provisioning is running ({}).", execution_summary(&job));
        facts.job = Some(job);
        return Ok(Status::AlreadyDone(text));
    }
    graph.start_job(&app, &job_id).await?;
    facts
        .changes
        .push(format!("Entra: started provisioning job {job_id}."));
    // Watch until the first cycle reports or the timeout passes.
    let deadline = Instant::now() + engine.cfg.watch_timeout;
    let mut delay = Duration::from_millis(100);
    let job = loop {
        let job = graph.get_job(&app, &job_id).await?;
        let reported = job
            .status
            .as_ref()
            .is_some_and(|s| s.last_execution.is_some());
        if reported || Instant::now() >= deadline {
            break job;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    };
    let text = format!("Started; {}.", execution_summary(&job));
    facts.job = Some(job);
    Ok(Status::Done(text))
}

fn execution_summary(job: &SynchronizationJob) -> String {
    let Some(status) = &job.status else {
        return "no status yet".into();
    };
    let code = format!("status {:?}", status.code);
    match &status.last_execution {
        Some(exec) => format!(
            "{code}; last cycle {}: {} exported",
            exec.state.as_deref().unwrap_or("?"),
            exec.count_exported.unwrap_or(0)
        ),
        None => format!("{code}; the first cycle is still running"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_without_trailing_slash() {
        assert!(same_url(
            "https://a.example/scim/v2/",
            "https://a.example/scim/v2"
        ));
        assert!(!same_url(
            "https://a.example/scim/v2",
            "https://a.example/scim"
        ));
    }

    #[test]
    fn merged_secrets_keep_other_keys_and_replace_ours() {
        let current = vec![
            SecretEntry {
                key: "SyncNotificationSettings".into(),
                value: SecretValue::Plain("{\"Enabled\":false}".into()),
            },
            SecretEntry {
                key: BASE_ADDRESS.into(),
                value: SecretValue::Plain("https://old/scim".into()),
            },
            SecretEntry {
                key: SECRET_TOKEN.into(),
                value: SecretValue::Masked,
            },
        ];
        let out = merged_secrets(
            &current,
            "https://new/scim",
            &crate::Secret::new("tok"),
            &[(SYNC_ALL, "false".into())],
        );
        let keys: Vec<&str> = out.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "SyncNotificationSettings",
                BASE_ADDRESS,
                SECRET_TOKEN,
                SYNC_ALL
            ]
        );
        assert!(matches!(&out[1].value, SecretValue::Plain(u) if u == "https://new/scim"));
        assert!(matches!(&out[2].value, SecretValue::Sensitive(s) if s.expose() == "tok"));
    }
}
