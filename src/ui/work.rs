//! Everything the window does over the network, as plain async work.
//!
//! An [`Op`] becomes a stream of [`Message`]s: the engine's progress events
//! as they happen, confirmation requests, then one `Finished`. The app runs
//! the stream as an abortable iced task; tests run the very same stream.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{Future, StreamExt};
use tokio::sync::{mpsc, oneshot};
use url::Url;

use super::app::Message;
use super::panel::{after_start, backups, rotate, secret_age, undo};
use super::screen::{drift, mappings, orchidea_secret, scope, sso};
use crate::engine::{Confirm, Engine, EngineError, Facts, JobView, Notifications, Scope};
use crate::platform::secret::Secret;
use crate::procedure::checklist::Progress;
use crate::procedure::mapping::UserNameSource;
use crate::procedure::step::StepId;
use crate::sandbox::{Sandbox, SandboxOptions};
use crate::services::connect::ConnectError;
use crate::services::graph::{DirectoryUser, ProvisioningEvent};
use crate::setup::Choices;

mod target;
pub use target::{SandboxFiles, Target, TargetError, Tenant};

/// Why Orchidea's IDPs could not be listed (step 1b).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdpsError {
    #[error("{0}")]
    Orchidea(crate::services::orchidea::OrchideaError),
    #[error("Orchidea's admin API is not configured.")]
    NoAdminApi,
    #[error("{0}")]
    Target(TargetError),
}

/// Why the report could not be exported after Start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExportError {
    #[error("could not create the folder {}: {reason}", dir.display())]
    Folder {
        dir: std::path::PathBuf,
        reason: String,
    },
    #[error("{0}")]
    Report(String),
    /// The blocking write never finished (its thread panicked or was cancelled).
    #[error("{0}")]
    Lost(String),
}

/// How the admin signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The system browser, with a loopback redirect.
    Browser,
    /// A code entered on another device's browser.
    DeviceCode,
}

/// A sign-in to run: where, how, whether to remember, what to save.
#[derive(Debug, Clone)]
pub struct SignInRequest {
    pub cfg: crate::services::signin::SignInConfig,
    pub method: Method,
    pub remember: bool,
    /// Saved by the root (no secrets) once the sign-in worked.
    pub settings: crate::platform::settings::Settings,
}

/// What the sign-in work needs from outside: the credential store, the
/// browser, where settings go. Tests replace all three.
#[derive(Clone)]
pub struct SignInEnv {
    pub store: Option<Arc<dyn crate::platform::credstore::CredentialStore>>,
    pub opener: Arc<dyn crate::services::signin::UrlOpener>,
    /// `None`: settings are not saved (tests that do not care).
    pub settings_path: Option<std::path::PathBuf>,
}

impl Default for SignInEnv {
    fn default() -> Self {
        Self {
            store: None,
            opener: Arc::new(crate::services::signin::SystemBrowser),
            settings_path: Some(crate::platform::settings::path()),
        }
    }
}

/// One piece of work the root runs for a screen.
#[derive(Debug, Clone)]
pub enum Op {
    /// With a tenant file, or the built-in tenant.
    StartSandbox(SandboxFiles),
    /// The drift check, read-only; `opening`: the first look at a target,
    /// which also tells whether a setup exists there at all.
    CheckDrift {
        opening: bool,
        choices: Box<Choices>,
    },
    ListIdps,
    /// Step 0 with an engine of its own (the check, or the set-up).
    Sso(Box<sso::SsoRequest>),
    /// Run 1a–1c with the engine built for the chosen secret path;
    /// `creates` when Orchidea's admin API makes a new secret.
    Connect {
        creates: bool,
    },
    /// Run these steps in order, skipping complete ones unless `again`.
    Steps {
        steps: Vec<StepId>,
        again: bool,
    },
    ChooseApp(String),
    /// Step 2 creating the app: none can provision.
    CreateApp,
    /// As `CreateApp`, although an app the wizard created earlier is not
    /// shown by Entra yet (the admin asked for a new one knowingly).
    CreateAppAgain,
    /// Count who `Scope` reaches (step 14 only; nothing is written).
    CountScope(Scope),
    /// Save steps 14–15 with the scope and, when edited, the notifications.
    SetScope(Scope, Option<Notifications>),
    /// Switch the userName source and write the mapping again (7–13), then recount.
    UserNameSource(UserNameSource),
    ListGroups,
    AssignGroup {
        id: String,
        name: String,
    },
    RunAll,
    /// After Start: the portal's "Restart provisioning" (held deletions stay held).
    RestartJob,
    /// Read the deletions the accidental-deletion threshold holds back.
    ReviewDeletions,
    /// Let the reviewed held deletions through (the users' ids as shown).
    AllowDeletions(Vec<String>),
    FindUsers(String),
    ProvisionUser(DirectoryUser),
    RefreshLogs,
    /// Write the Markdown and JSON report into this folder.
    ExportReport(std::path::PathBuf),
    ListBackups,
    /// Read each SCIM secret's age and expiry (changes nothing).
    SecretAges,
    PreviewRestore(crate::engine::backup::Backup),
    Restore(crate::engine::backup::Backup),
    /// Read the undo plan (changes nothing).
    UndoPlan,
    /// Carry out undo if its plan is still the one shown (this text).
    Undo(String),
    /// Rotate the SCIM secret: Orchidea's admin API makes the new one
    /// (`None`), or the one pasted from Orchidea's web UI.
    Rotate(Option<Secret>),
    /// Whether Orchidea refuses this old secret now (the manual path).
    CheckOldSecret(Secret),
    /// Sign in to Entra, check the roles, remember if asked, save settings.
    SignIn(Box<SignInRequest>),
    /// Forget the remembered sign-in (and the workspace's Orchidea token).
    SignOut(crate::services::signin::SignInConfig, Option<Url>),
    /// Check Orchidea's admin API token before use (keep it if `remember`).
    /// `token: None` uses the one remembered for this workspace.
    CheckOrchidea {
        workspace: Url,
        token: Option<Secret>,
        remember: bool,
    },
}

impl Op {
    pub fn steps(steps: &[StepId]) -> Self {
        Op::Steps {
            steps: steps.to_vec(),
            again: false,
        }
    }

    /// A choice the scope screen offers at the step-14 pause.
    pub fn is_scope_choice(&self) -> bool {
        matches!(
            self,
            Op::CountScope(_)
                | Op::SetScope(..)
                | Op::UserNameSource(_)
                | Op::ListGroups
                | Op::AssignGroup { .. }
        )
    }

    /// Whether closing the window now could leave a half-made change.
    pub fn writes(&self) -> bool {
        const WRITES: [StepId; 7] = [
            StepId::CreateSecret,
            StepId::AutomaticMode,
            StepId::SaveCredentials,
            StepId::KeepFiveAttributes,
            StepId::ExternalIdFromObjectId,
            StepId::SaveSettings,
            StepId::StartProvisioning,
        ];
        match self {
            Op::StartSandbox(_)
            | Op::CheckDrift { .. }
            | Op::ListIdps
            | Op::ChooseApp(_)
            | Op::CountScope(_)
            | Op::ListGroups
            | Op::FindUsers(_)
            | Op::RefreshLogs
            | Op::ReviewDeletions
            | Op::ExportReport(_)
            | Op::ListBackups
            | Op::SecretAges
            | Op::PreviewRestore(_)
            | Op::UndoPlan
            | Op::CheckOldSecret(_)
            | Op::SignIn(_)
            | Op::SignOut(..)
            | Op::CheckOrchidea { .. } => false,
            Op::Connect { creates } => *creates,
            Op::Sso(request) => request.choice == crate::engine::SsoChoice::Yes,
            Op::Steps { steps, .. } => steps.iter().any(|s| WRITES.contains(s)),
            Op::SetScope(..)
            | Op::UserNameSource(_)
            | Op::AssignGroup { .. }
            | Op::RunAll
            | Op::RestartJob
            | Op::AllowDeletions(_)
            | Op::ProvisionUser(_)
            | Op::CreateApp
            | Op::CreateAppAgain
            | Op::Restore(_)
            | Op::Undo(_)
            | Op::Rotate(_) => true,
        }
    }
}

/// What the engine knows after a piece of work.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub facts: Facts,
    pub scope: Scope,
    /// What step 16 will do, or `None` when provisioning already runs.
    pub start_notice: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Sandbox(Result<SandboxHandle, crate::sandbox::SandboxError>),
    Engine(Result<(), EngineError>, Box<Snapshot>),
    /// A result for a screen or panel, as that screen's own message.
    Reply(Box<Message>),
    /// An engine step was asked for before the secret path was chosen.
    NoEngine,
    SignedIn(Result<Box<crate::ui::panel::sign_in::SignedIn>, ConnectError>),
    /// How many stored items sign-out removed.
    SignedOut(Result<usize, ConnectError>),
    /// The workspace's name and the token that worked.
    OrchideaChecked(Result<(String, Secret), ConnectError>),
}

/// The running sandbox, shared with the message that delivers it.
#[derive(Clone)]
pub struct SandboxHandle(pub Arc<Sandbox>);

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sandbox({})", self.0.graph_url)
    }
}

/// The admin's answer to a pause of "run the remaining steps".
#[derive(Clone)]
pub struct Reply(Arc<Mutex<Option<oneshot::Sender<bool>>>>);

impl Reply {
    pub fn send(&self, yes: bool) {
        let sender = self.0.lock().ok().and_then(|mut s| s.take());
        if let Some(tx) = sender {
            let _ = tx.send(yes);
        }
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reply")
    }
}

/// Asks the window before the schema write and before start, with what
/// the engine knows at that point so the screen can show it.
struct AskWindow {
    id: u64,
    engine: Engine,
    tx: mpsc::UnboundedSender<Message>,
}

/// What the window shows while "run the remaining steps" waits.
#[derive(Debug, Clone)]
pub struct Question {
    pub step: StepId,
    pub detail: String,
    pub snapshot: Box<Snapshot>,
    pub reply: Reply,
}

impl Confirm for AskWindow {
    fn confirm(&self, step: StepId, detail: String) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            let question = Question {
                step,
                detail,
                snapshot: Box::new(snapshot(&self.engine).await),
                reply: Reply(Arc::new(Mutex::new(Some(tx)))),
            };
            let _ = self.tx.send(Message::ConfirmRequested(self.id, question));
            rx.await.unwrap_or(false)
        })
    }
}

/// Undo's confirmation in the window: the admin confirmed the plan shown,
/// so undo goes ahead only if the plan it reads now is that one.
struct SamePlan(String);

impl Confirm for SamePlan {
    fn confirm(&self, _: StepId, plan: String) -> BoxFuture<'_, bool> {
        Box::pin(async move { plan == self.0 })
    }
}

/// Turns `op` into the stream of messages it produces.
pub fn stream(
    id: u64,
    op: Op,
    target: Option<Target>,
    engine: Option<Engine>,
    env: SignInEnv,
) -> BoxStream<'static, Message> {
    let (progress_tx, progress_rx) = mpsc::unbounded_channel();
    let (side_tx, side_rx) = mpsc::unbounded_channel();
    let work = async move {
        match op {
            Op::StartSandbox(files) => Outcome::Sandbox(
                Sandbox::start(SandboxOptions {
                    tenant_file: files.tenant,
                    state_file: files.state,
                    ..SandboxOptions::default()
                })
                .await
                .map(|s| SandboxHandle(Arc::new(s))),
            ),
            Op::SignIn(request) => Outcome::SignedIn(
                super::panel::sign_in_work::sign_in(*request, env, side_tx.clone())
                    .await
                    .map(Box::new),
            ),
            Op::SignOut(cfg, workspace) => {
                Outcome::SignedOut(super::panel::sign_in_work::sign_out(cfg, workspace, env).await)
            }
            Op::CheckOrchidea {
                workspace,
                token,
                remember,
            } => Outcome::OrchideaChecked(
                super::panel::sign_in_work::check_orchidea(workspace, token, remember, env).await,
            ),
            Op::CheckDrift { opening, choices } => {
                let found = drift::check(target, *choices, opening).await;
                reply(Message::Drift(drift::Message::Checked { opening, found }))
            }
            Op::Sso(request) => sso::run(target, Choices::default(), *request, progress_tx).await,
            Op::Rotate(pasted) => rotate::rotate(engine, target.as_ref(), pasted).await,
            Op::CheckOldSecret(old) => rotate::check_old(engine, target.as_ref(), &old).await,
            Op::ListIdps => {
                let admin = target.as_ref().map(Target::admin).transpose();
                let idps = match admin {
                    Ok(Some(Some(admin))) => admin.list_idps().await.map_err(IdpsError::Orchidea),
                    Ok(_) => Err(IdpsError::NoAdminApi),
                    Err(e) => Err(IdpsError::Target(e)),
                };
                reply(Message::Secret(orchidea_secret::Message::IdpsLoaded(idps)))
            }
            op => {
                let Some(engine) = engine else {
                    return Outcome::NoEngine;
                };
                match op {
                    Op::FindUsers(query) => {
                        let users = engine.find_users(&query).await;
                        return reply(Message::AfterStart(after_start::Message::UsersFound(users)));
                    }
                    Op::ListGroups => {
                        let groups = engine.list_groups("").await;
                        return reply(Message::Scope(scope::Message::GroupsLoaded(groups)));
                    }
                    Op::ExportReport(dir) => {
                        let written = export(&engine, &dir).await;
                        return reply(Message::AfterStart(after_start::Message::Exported(written)));
                    }
                    Op::ListBackups => {
                        let list = engine.backups().await;
                        return reply(Message::Backups(backups::Message::Listed(list)));
                    }
                    Op::SecretAges => {
                        let read = engine.secret_ages().await;
                        return reply(Message::SecretAge(secret_age::Message::Read(read)));
                    }
                    Op::PreviewRestore(backup) => {
                        let diff = engine.restore_preview(&backup).await;
                        let id = backup.id.clone();
                        return reply(Message::Backups(backups::Message::Previewed(id, diff)));
                    }
                    Op::UndoPlan => {
                        let plan = engine.undo_plan().await;
                        return reply(Message::Backups(backups::Message::Undo(
                            undo::Message::PlanRead(plan),
                        )));
                    }
                    Op::Undo(shown) => {
                        let done = engine.undo(&SamePlan(shown)).await;
                        let now = Box::new(snapshot(&engine).await);
                        return reply(Message::Backups(backups::Message::Undo(
                            undo::Message::Undone(done, now),
                        )));
                    }
                    _ => {}
                }
                let engine = engine.with_events(progress_tx);
                let result = run_engine(&engine, op, id, side_tx).await;
                Outcome::Engine(result, Box::new(snapshot(&engine).await))
            }
        }
    };
    drive(id, work, progress_rx, side_rx)
}

fn reply(message: Message) -> Outcome {
    Outcome::Reply(Box::new(message))
}

async fn run_engine(
    engine: &Engine,
    op: Op,
    id: u64,
    side: mpsc::UnboundedSender<Message>,
) -> Result<(), EngineError> {
    match op {
        Op::Connect { .. } => {
            // A new engine checks step 0 again with the choice made on its screen.
            let steps = [&sso::STEPS[..], &orchidea_secret::STEPS[..]].concat();
            run_steps(engine, &steps, false).await
        }
        Op::Steps { steps, again } => run_steps(engine, &steps, again).await,
        Op::ChooseApp(sp_id) => {
            engine.choose_app(&sp_id).await?;
            run_steps(engine, &[StepId::OpenEnterpriseApp], true).await
        }
        Op::CreateApp => {
            engine.request_create_app().await;
            run_steps(engine, &[StepId::OpenEnterpriseApp], true).await
        }
        Op::CreateAppAgain => {
            engine.request_create_app_again().await;
            run_steps(engine, &[StepId::OpenEnterpriseApp], true).await
        }
        Op::CountScope(scope) => {
            engine.set_scope(scope).await;
            run_steps(engine, &[StepId::ChooseScope], true).await
        }
        Op::SetScope(scope, notifications) => {
            engine.set_scope(scope).await;
            if let Some(n) = notifications {
                engine.set_notifications(n).await;
            }
            run_steps(engine, &[StepId::ChooseScope, StepId::SaveSettings], false).await
        }
        Op::UserNameSource(source) => {
            engine.set_user_name_source(source).await;
            run_steps(engine, &mappings::STEPS, false).await?;
            run_steps(engine, &[StepId::ChooseScope], true).await
        }
        Op::AssignGroup { id, name } => engine.assign_to_app(&id, &name).await,
        Op::RestartJob => engine.restart_job().await.map(drop),
        Op::ReviewDeletions => engine.pending_deletions().await.map(drop),
        Op::AllowDeletions(reviewed) => engine.allow_deletions(&reviewed).await.map(drop),
        Op::ProvisionUser(user) => {
            engine.provision_user(&user).await?;
            // The log shows the on-demand line as well.
            engine.provisioning_events(LOG_PAGE).await.map(drop)
        }
        Op::RefreshLogs => engine.provisioning_events(LOG_PAGE).await.map(drop),
        Op::Restore(backup) => engine.restore(&backup).await.map(drop),
        Op::RunAll => {
            let ask = AskWindow {
                id,
                engine: engine.clone(),
                tx: side,
            };
            engine.run_all(&ask).await
        }
        Op::StartSandbox(_)
        | Op::Sso(_)
        | Op::CheckDrift { .. }
        | Op::ListIdps
        | Op::FindUsers(_)
        | Op::ListGroups
        | Op::ExportReport(_)
        | Op::ListBackups
        | Op::SecretAges
        | Op::PreviewRestore(_)
        | Op::UndoPlan
        | Op::Undo(_)
        | Op::Rotate(_)
        | Op::CheckOldSecret(_)
        | Op::SignIn(_)
        | Op::SignOut(..)
        | Op::CheckOrchidea { .. } => Ok(()),
    }
}

/// How many log events the window reads at a time.
pub const LOG_PAGE: usize = 50;

/// Writes `orchidea-scim-report-<time>.json` and `.md` into `dir`.
async fn export(
    engine: &Engine,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>, ExportError> {
    let facts = engine.facts().await;
    let scope = engine.scope().await;
    let mode = if crate::platform::http::is_loopback(engine.config().graph.base()) {
        "sandbox"
    } else {
        "tenant"
    };
    let report = crate::engine::report::build(&facts, scope, mode);
    let stamp = crate::platform::timefmt::now_compact();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir).map_err(|e| ExportError::Folder {
            dir: dir.clone(),
            reason: e.to_string(),
        })?;
        let path = dir.join(format!("orchidea-scim-report-{stamp}.json"));
        crate::engine::report::write(&report, &path).map_err(|e| ExportError::Report(e.to_string()))
    })
    .await
    .map_err(|e| ExportError::Lost(e.to_string()))?
}

/// What the monitor reads after Start: the job and, when it changed, the log.
#[derive(Debug, Clone)]
pub struct Observation {
    pub job: Result<JobView, EngineError>,
    pub events: Option<Vec<ProvisioningEvent>>,
}

/// Polls the job after Start with backoff: quickly while it changes, then
/// less and less often (1 s doubling to 60 s). The subscription that runs
/// it ends when the window closes or leaves the screens that show it.
pub fn monitor(engine: Engine) -> BoxStream<'static, Message> {
    const FIRST: std::time::Duration = std::time::Duration::from_secs(1);
    const MAX: std::time::Duration = std::time::Duration::from_secs(60);
    futures::stream::unfold(
        (engine, std::time::Duration::ZERO, None::<JobView>),
        |(engine, delay, last)| async move {
            tokio::time::sleep(delay).await;
            let job = engine.job_status().await;
            let changed = match (&job, &last) {
                (Ok(now), Some(before)) => now != before,
                (Ok(_), None) => true,
                (Err(_), _) => false,
            };
            let events = if changed {
                engine.provisioning_events(LOG_PAGE).await.ok()
            } else {
                None
            };
            let next = if changed {
                FIRST
            } else {
                (delay * 2).clamp(FIRST, MAX)
            };
            let last = job.as_ref().ok().cloned().or(last);
            Some((
                Message::Observed(Observation { job, events }),
                (engine, next, last),
            ))
        },
    )
    .boxed()
}

async fn run_steps(engine: &Engine, steps: &[StepId], again: bool) -> Result<(), EngineError> {
    for step in steps {
        if again || !engine.checklist().await.status(*step).is_complete() {
            engine.run_step(*step).await?;
        }
    }
    Ok(())
}

pub(crate) async fn snapshot(engine: &Engine) -> Snapshot {
    Snapshot {
        facts: engine.facts().await,
        scope: engine.scope().await,
        start_notice: engine.pending_change(StepId::StartProvisioning).await,
    }
}

/// Polls `work` while forwarding its progress and side messages; the
/// `Finished` message comes last, after every event the work sent.
fn drive(
    id: u64,
    work: impl Future<Output = Outcome> + Send + 'static,
    mut progress: mpsc::UnboundedReceiver<Progress>,
    mut side: mpsc::UnboundedReceiver<Message>,
) -> BoxStream<'static, Message> {
    let mut work: Option<Pin<Box<dyn Future<Output = Outcome> + Send>>> = Some(Box::pin(work));
    let mut outcome: Option<Outcome> = None;
    let mut open = (true, true);
    futures::stream::poll_fn(move |cx: &mut Context<'_>| {
        if let Some(fut) = work.as_mut()
            && let Poll::Ready(out) = fut.as_mut().poll(cx)
        {
            outcome = Some(out);
            // Dropping the future drops its senders, closing both channels.
            work = None;
        }
        if open.0 {
            match progress.poll_recv(cx) {
                Poll::Ready(Some(p)) => return Poll::Ready(Some(Message::Progressed(id, p))),
                Poll::Ready(None) => open.0 = false,
                Poll::Pending => {}
            }
        }
        if open.1 {
            match side.poll_recv(cx) {
                Poll::Ready(Some(m)) => return Poll::Ready(Some(m)),
                Poll::Ready(None) => open.1 = false,
                Poll::Pending => {}
            }
        }
        match (&work, open) {
            (None, (false, false)) => Poll::Ready(outcome.take().map(|o| Message::Finished(id, o))),
            _ => Poll::Pending,
        }
    })
    .boxed()
}
