//! The root: owns the screens and the session, routes messages, runs work.
//!
//! [`App::handle`] is the whole update logic and returns plain [`Effect`]s,
//! so tests drive exactly what the window does; [`App::update`] turns the
//! effects into iced tasks (`runtime.rs`).

use iced::Task;
use iced::theme::Mode;

mod drift;
mod flow;
mod message;
mod outcome;
mod remember;
mod runtime;
mod target;

pub use message::{Effect, Message, Work};

pub use runtime::key_message;

use super::Options;
use super::panel::{after_start, backups};
use super::screen::{self, Action, Screen, ScreenId, welcome};
use super::session::{Failure, Pause, Running, Session};
use super::work::{self, Op, Question};
use crate::platform::clipboard::{Copier, Expiry};

pub struct App {
    /// One of each screen, in [`ScreenId::ALL`] order.
    pub(super) screens: Vec<Screen>,
    pub(super) current: ScreenId,
    /// Panels shared by Start and Summary.
    pub(super) after_start: after_start::AfterStart,
    pub(super) backups: backups::Backups,
    pub(super) rotate: super::panel::rotate::Rotate,
    pub(super) report_dir: std::path::PathBuf,
    pub(super) timing: super::bench::Timing,
    bench_report: Option<super::bench::Report>,
    pub(super) session: Session,
    pub(super) sign_in_env: work::SignInEnv,
    /// The saved settings; "last choices" are offered again next time.
    pub(super) settings: crate::platform::settings::Settings,
    pub(super) close_prompt: bool,
    /// The OS light/dark setting, once it answered.
    mode: Option<Mode>,
    next_id: u64,
}

impl App {
    pub fn new(options: &Options) -> (Self, Vec<Effect>) {
        let copier = match &options.clipboard {
            Some(memory) => Copier::new(Box::new(memory.clone())),
            None => Copier::system(),
        };
        let sandbox_files = work::SandboxFiles {
            tenant: options.sandbox_tenant.clone(),
            state: options.sandbox_state.clone(),
        };
        let welcome = welcome::Welcome::new(
            options.last_run.clone(),
            options.settings.clone(),
            sandbox_files.clone(),
        );
        let mut app = Self {
            screens: Screen::all(welcome),
            current: ScreenId::Welcome,
            after_start: after_start::AfterStart::default(),
            backups: backups::Backups::default(),
            rotate: super::panel::rotate::Rotate::default(),
            report_dir: options
                .report_dir
                .clone()
                .unwrap_or_else(super::default_report_dir),
            timing: super::bench::Timing::new(options.bench),
            bench_report: options.bench_report.clone(),
            session: Session::new(copier),
            sign_in_env: options.sign_in_env.clone().unwrap_or_default(),
            settings: options.settings.clone(),
            close_prompt: false,
            mode: None,
            next_id: 0,
        };
        let effects = if options.sandbox {
            app.perform(Action::Run(Op::StartSandbox(sandbox_files)))
        } else {
            Vec::new()
        };
        (app, effects)
    }

    /// For iced: also asks the OS for its light/dark setting.
    pub fn boot(options: &Options) -> (Self, Task<Message>) {
        let (mut app, effects) = Self::new(options);
        let tasks = app.tasks(effects);
        (
            app,
            Task::batch([tasks, iced::system::theme().map(Message::ThemeChanged)]),
        )
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        let began = self.timing.on().then(std::time::Instant::now);
        let effects = self.handle(message);
        let tasks = self.tasks(effects);
        if let Some(began) = began {
            self.timing.record_update(began.elapsed());
        }
        tasks
    }

    pub fn handle(&mut self, message: Message) -> Vec<Effect> {
        let action = match message {
            Message::Welcome(m) => self.route(screen::Message::Welcome(m)),
            Message::Sso(m) => self.route(screen::Message::Sso(m)),
            Message::Secret(m) => self.route(screen::Message::Secret(m)),
            Message::ChooseApp(m) => self.route(screen::Message::ChooseApp(m)),
            Message::Scope(m) => self.route(screen::Message::Scope(m)),
            Message::Drift(m) => return self.drift(m),
            Message::AfterStart(m) => self.after_start.update(m, &self.report_dir),
            Message::Backups(m) => {
                // One piece of work at a time: the summary's secret ages
                // are read once its backups list is in.
                let listed = matches!(m, backups::Message::Listed(_));
                self.after_undo(&m);
                let action = self.backups.update(m);
                if listed && self.current == ScreenId::Summary && self.session.secret_ages.unread()
                {
                    return self.perform(Action::Run(Op::SecretAges));
                }
                action
            }
            Message::Rotate(m) => {
                // The summary's facts show the secret Entra holds now.
                let rotated = matches!(m, super::panel::rotate::Message::Rotated(Ok(_), _));
                if let super::panel::rotate::Message::Rotated(_, Some(snapshot)) = &m
                    && self.session.engine.is_some()
                {
                    self.session.snapshot = Some((**snapshot).clone());
                    // Read the secrets' ages again once the backups are in.
                    self.session.secret_ages.clear();
                }
                let action = self.rotate.update(m);
                if rotated && self.current == ScreenId::Drift {
                    // Rotated from the drift check: check again.
                    self.route(screen::Message::Drift(screen::drift::Message::CheckAgain))
                } else {
                    action
                }
            }
            Message::SecretAge(m) => self.session.secret_ages.update(m),
            Message::Observed(o) => return self.observed(o),
            Message::Frame(_) if self.timing.first_frame.is_some() => Action::None,
            Message::Frame(_) => {
                // Subscriptions deliver after the frame was presented.
                self.timing.first_frame = Some(self.timing.since_start());
                let idle = Effect::After(super::bench::IDLE_WAIT, Message::IdleMeasured);
                return vec![idle];
            }
            Message::IdleMeasured => {
                self.report(&self.timing.first_frame_line());
                return vec![Effect::Exit];
            }
            Message::Primary if self.close_prompt => Action::None,
            Message::Escape if self.close_prompt => {
                return self.handle(Message::CloseAnswered(false));
            }
            Message::Primary | Message::Escape if self.session.pause.is_some() => {
                let yes = matches!(message, Message::Primary);
                return self.handle(Message::Confirmed(yes));
            }
            Message::Primary => return self.primary(),
            Message::Back | Message::Escape => return self.back(),
            Message::RunRemaining => return self.run_remaining(),
            Message::Progressed(id, progress) => {
                if self.is_current(id) {
                    self.session.apply(&progress);
                    if self.session.running_all
                        && matches!(progress.status, crate::Status::Running(_))
                    {
                        self.current = ScreenId::of(progress.step);
                    }
                }
                Action::None
            }
            Message::Finished(id, outcome) => return self.finished(id, outcome),
            Message::ConfirmRequested(id, question) => return self.paused(id, question),
            Message::Confirmed(true) if self.session.paused_at_scope() && self.scope_edited() => {
                // Continue at step 14 with the scope or notifications edited
                // on the screen: they are saved (as "Save scope" does), then
                // the run goes on.
                let at = ScreenId::Scope.index();
                self.screens[at].primary(&self.session)
            }
            Message::Confirmed(yes) => {
                if let Some(pause) = self.session.pause.take() {
                    pause.reply.send(yes);
                }
                Action::None
            }
            Message::Retry => match self.session.error.take() {
                Some(Failure {
                    retry: Some(op), ..
                }) => Action::Run(op),
                _ => Action::None,
            },
            Message::Retest => super::screen::credentials::retest(&self.session),
            Message::StepSelected(step) => {
                let open = self.session.selected_step != Some(step);
                self.session.selected_step = open.then_some(step);
                Action::None
            }
            Message::StepClosed => {
                self.session.selected_step = None;
                Action::None
            }
            Message::CopyUrl => self.session.copy_scim_url(),
            Message::CopySecret => self.session.copy_scim_secret(),
            Message::ClearClipboard => {
                let _: Expiry = self.session.copier.clear_now();
                Action::None
            }
            Message::RevealSecret => {
                self.session.reveal_secret = !self.session.reveal_secret;
                Action::None
            }
            Message::Tick(now) => {
                self.session.now = now;
                self.session.frame = self.session.frame.wrapping_add(1);
                let _: Expiry = self.session.copier.tick(now);
                Action::None
            }
            Message::ThemeChanged(mode) => {
                self.mode = Some(mode);
                Action::None
            }
            Message::FocusNext => return vec![Effect::FocusNext],
            Message::FocusPrevious => return vec![Effect::FocusPrevious],
            Message::Arrow => {
                let at = self.current.index();
                self.screens[at].arrow(&self.session);
                Action::None
            }
            Message::CloseRequested(_) if self.session.is_writing() => {
                self.close_prompt = true;
                Action::None
            }
            Message::CloseRequested(_) | Message::CloseAnswered(true) => {
                let _: Expiry = self.session.copier.clear_now();
                return vec![Effect::Exit];
            }
            Message::CloseAnswered(false) => {
                self.close_prompt = false;
                Action::None
            }
        };
        self.perform(action)
    }

    /// Hands a message to the screen it is for (current or not: results
    /// arrive for the screen that asked).
    fn route(&mut self, message: screen::Message) -> Action {
        let at = message.screen().index();
        self.screens[at].update(message, &mut self.session)
    }

    /// "Run the remaining steps" waits before a big change, on its screen.
    /// The scope screen holds a scope or notifications not saved yet.
    fn scope_edited(&self) -> bool {
        match &self.screens[ScreenId::Scope.index()] {
            Screen::Scope(scope) => scope.changed(&self.session),
            _ => false,
        }
    }

    fn paused(&mut self, id: u64, question: Question) -> Vec<Effect> {
        if !self.is_current(id) {
            return Vec::new();
        }
        let Question {
            step,
            detail,
            snapshot,
            reply,
        } = question;
        self.current = ScreenId::of(step);
        self.session.checklist = snapshot.facts.checklist.clone();
        self.session.snapshot = Some(*snapshot);
        self.session.pause = Some(Pause {
            id,
            step,
            detail,
            reply,
        });
        if self.timing.mode == super::bench::BenchMode::Run {
            return self.handle(Message::Confirmed(true));
        }
        Vec::new()
    }

    fn perform(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::None => Vec::new(),
            Action::Fail(message) => {
                self.fail(message, None);
                Vec::new()
            }
            Action::Copy(text) => {
                if let Err(e) = self.session.copier.copy_text(&text) {
                    self.fail(e.to_string(), None);
                }
                Vec::new()
            }
            Action::Open(url) => vec![Effect::Open(url)],
            Action::Next => self.go(self.current.next()),
            Action::Connect(connect) => match self.connect(connect) {
                Ok(creates) => self.perform(Action::Run(Op::Connect { creates })),
                Err(e) => self.perform(Action::Fail(e.to_string())),
            },
            Action::OpenTenant(signed, orchidea) => self.open_tenant(&signed, orchidea),
            Action::Close => self.handle(Message::CloseRequested(None)),
            Action::RunRemaining => self.run_remaining(),
            Action::Go(to) => self.go(Some(to)),
            Action::Run(op) if self.session.paused_at_scope() && op.is_scope_choice() => {
                // The run stops at the pause; the choice runs, then the run
                // goes on with it (and pauses again if a warning remains).
                self.session.after_pause = Some(op);
                if let Some(pause) = self.session.pause.take() {
                    pause.reply.send(false);
                }
                Vec::new()
            }
            Action::Run(_) if self.session.is_busy() => Vec::new(),
            Action::Run(op) => {
                self.next_id += 1;
                let id = self.next_id;
                self.session.error = None;
                let stream = work::stream(
                    id,
                    op.clone(),
                    self.session.target.clone(),
                    self.session.engine.clone(),
                    self.sign_in_env.clone(),
                );
                let handle = None;
                self.session.running = Some(Running { id, op, handle });
                vec![Effect::Work(Work { id, stream })]
            }
        }
    }

    /// The screen shown now.
    pub(super) fn page(&self) -> &Screen {
        &self.screens[self.current.index()]
    }

    pub fn screen(&self) -> ScreenId {
        self.current
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The message in the error banner.
    pub fn error(&self) -> Option<&str> {
        self.session.error.as_ref().map(|f| f.message.as_str())
    }

    /// Whether messages from work `id` still matter (not cancelled).
    pub fn is_current(&self, id: u64) -> bool {
        self.session.running.as_ref().is_some_and(|r| r.id == id)
    }

    /// Whether work `id` waits for the admin's answer.
    pub fn is_paused(&self, id: u64) -> bool {
        self.session.pause.as_ref().is_some_and(|p| p.id == id)
    }
}

impl App {
    /// After an undo that changed something, even one that stopped part
    /// way, the summary shows what is there now: the job it deleted is gone
    /// and no step counts as done.
    fn after_undo(&mut self, message: &backups::Message) {
        use super::panel::undo;
        use crate::engine::EngineError;
        let backups::Message::Undo(undo::Message::Undone(result, snapshot)) = message else {
            return;
        };
        let changed = match result {
            Ok(outcome) => outcome.confirmed && !outcome.done.is_empty(),
            Err(EngineError::UndoStopped { done, .. }) => *done > 0,
            Err(_) => false,
        };
        if changed {
            self.session.snapshot = Some((**snapshot).clone());
            self.session.checklist = crate::procedure::checklist::Checklist::default();
            self.session.job_view = None;
        }
    }
}
