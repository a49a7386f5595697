//! The root: owns the screens and the session, routes messages, runs work.
//!
//! [`App::handle`] is the whole update logic and returns plain [`Effect`]s,
//! so tests drive exactly what the window does; [`App::update`] turns the
//! effects into iced tasks.

use std::time::Duration;

use futures::stream::BoxStream;
use iced::keyboard::{self, key::Named};
use iced::theme::Mode;
use iced::widget::operation;
use iced::{Element, Subscription, Task, Theme, window};

mod flow;

use super::screen::{
    Action, Screen, after_start, choose_app, credentials, orchidea_secret, scope, welcome,
};
use super::session::{Failure, Pause, Running, Session};
use super::work::{self, Observation, Op, Outcome, Question, Target};
use super::{Options, theme, view};
use crate::platform::clipboard::{Copier, Expiry};
use crate::procedure::checklist::Progress;
use crate::procedure::step::StepId;

#[derive(Debug, Clone)]
pub enum Message {
    Welcome(welcome::Message),
    Secret(orchidea_secret::Message),
    ChooseApp(choose_app::Message),
    Scope(scope::Message),
    AfterStart(after_start::Message),
    Backups(super::screen::backups::Message),
    /// The monitor read the job after Start.
    Observed(Observation),
    /// A frame was drawn (only watched by the first-frame bench).
    Frame(iced::time::Instant),
    /// The first-frame bench waited idle; memory can be read.
    IdleMeasured,
    /// The primary button, or Enter.
    Primary,
    /// Back, or Esc: also cancels work in flight.
    Back,
    RunRemaining,
    Progressed(u64, Progress),
    Finished(u64, Outcome),
    ConfirmRequested(u64, Question),
    Confirmed(bool),
    Retry,
    Retest,
    StepSelected(StepId),
    StepClosed,
    CopyUrl,
    CopySecret,
    ClearClipboard,
    RevealSecret,
    Tick(iced::time::Instant),
    ThemeChanged(Mode),
    FocusNext,
    FocusPrevious,
    Arrow,
    Escape,
    CloseRequested(Option<window::Id>),
    CloseAnswered(bool),
}

/// Work the app wants done, as a stream of messages.
pub struct Work {
    pub id: u64,
    pub stream: BoxStream<'static, Message>,
}

/// What [`App::handle`] asks of the runtime.
pub enum Effect {
    Work(Work),
    /// Deliver this message after a while.
    After(Duration, Message),
    /// Open a page in the system browser.
    Open(url::Url),
    /// Write the settings file (off the UI thread).
    SaveSettings(crate::platform::settings::Settings),
    FocusNext,
    FocusPrevious,
    Exit,
}

pub struct App {
    pub(super) screen: Screen,
    pub(super) welcome: welcome::Welcome,
    pub(super) secret: orchidea_secret::OrchideaSecret,
    pub(super) choose_app: choose_app::ChooseApp,
    pub(super) scope: scope::ScopeScreen,
    pub(super) after_start: after_start::AfterStart,
    pub(super) backups: super::screen::backups::Backups,
    pub(super) report_dir: std::path::PathBuf,
    pub(super) sandbox_tenant: Option<std::path::PathBuf>,
    pub(super) timing: super::bench::Timing,
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
        let mut app = Self {
            screen: Screen::Welcome,
            welcome: welcome::Welcome::new(options.last_run.clone(), options.settings.clone()),
            secret: orchidea_secret::OrchideaSecret::default(),
            choose_app: choose_app::ChooseApp::default(),
            scope: scope::ScopeScreen::default(),
            after_start: after_start::AfterStart::default(),
            backups: super::screen::backups::Backups::default(),
            report_dir: options
                .report_dir
                .clone()
                .unwrap_or_else(super::default_report_dir),
            sandbox_tenant: options.sandbox_tenant.clone(),
            timing: super::bench::Timing::new(options.bench),
            session: Session::new(copier),
            sign_in_env: options.sign_in_env.clone().unwrap_or_default(),
            settings: options.settings.clone(),
            close_prompt: false,
            mode: None,
            next_id: 0,
        };
        let effects = if options.sandbox {
            app.perform(Action::Run(Op::StartSandbox(
                options.sandbox_tenant.clone(),
            )))
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

    fn tasks(&mut self, effects: Vec<Effect>) -> Task<Message> {
        Task::batch(effects.into_iter().map(|effect| {
            match effect {
                Effect::Work(work) => {
                    let (task, handle) = Task::run(work.stream, |m| m).abortable();
                    if let Some(running) = self.session.running.as_mut().filter(|r| r.id == work.id)
                    {
                        running.handle = Some(handle.abort_on_drop());
                    }
                    task
                }
                Effect::After(wait, message) => {
                    Task::perform(tokio::time::sleep(wait), move |()| message)
                }
                Effect::FocusNext => operation::focus_next(),
                Effect::FocusPrevious => operation::focus_previous(),
                Effect::Open(url) => {
                    let opener = std::sync::Arc::clone(&self.sign_in_env.opener);
                    Task::future(async move {
                        if let Err(e) = opener.open(&url).await {
                            tracing::warn!("could not open the browser: {e}");
                        }
                    })
                    .discard()
                }
                Effect::SaveSettings(settings) => match self.sign_in_env.settings_path.clone() {
                    Some(path) => Task::future(async move {
                        let saved = tokio::task::spawn_blocking(move || {
                            crate::platform::settings::save_to(&path, &settings)
                        })
                        .await;
                        if let Ok(Err(e)) = saved {
                            tracing::warn!("could not save the settings: {e}");
                        }
                    })
                    .discard(),
                    None => Task::none(),
                },
                Effect::Exit => iced::exit(),
            }
        }))
    }

    pub fn handle(&mut self, message: Message) -> Vec<Effect> {
        let action = match message {
            Message::Welcome(m) => {
                let cancel = matches!(
                    m,
                    welcome::Message::SignIn(super::screen::sign_in::Message::Cancel)
                );
                if cancel {
                    self.session.cancel();
                }
                self.welcome.update(m)
            }
            Message::Secret(m) => self.secret.update(m),
            Message::ChooseApp(m) => self.choose_app.update(m, &self.session),
            Message::Scope(m) => self.scope.update(m, &self.session),
            Message::AfterStart(m) => self.after_start.update(m, &self.report_dir),
            Message::Backups(m) => self.backups.update(m),
            Message::Observed(o) => {
                match o.job {
                    Ok(view) => {
                        self.session.job_view = Some(view);
                        self.session.monitor_error = None;
                    }
                    Err(e) => self.session.monitor_error = Some(e),
                }
                if let Some(events) = o.events {
                    self.session.events = events;
                }
                if let Some(effects) = self.bench_run_done() {
                    return effects;
                }
                Action::None
            }
            Message::Frame(_) => {
                if self.timing.first_frame.is_some() {
                    return Vec::new();
                }
                // Subscriptions deliver after the frame was presented.
                self.timing.first_frame = Some(self.timing.since_start());
                return vec![Effect::After(
                    super::bench::IDLE_WAIT,
                    Message::IdleMeasured,
                )];
            }
            Message::IdleMeasured => {
                println!("{}", self.timing.first_frame_line());
                return vec![Effect::Exit];
            }
            Message::Primary if self.close_prompt => Action::None,
            Message::Primary if self.session.pause.is_some() => {
                return self.handle(Message::Confirmed(true));
            }
            Message::Primary => return self.primary(),
            Message::Back => return self.back(),
            Message::Escape if self.close_prompt => {
                return self.handle(Message::CloseAnswered(false));
            }
            Message::Escape if self.session.pause.is_some() => {
                return self.handle(Message::Confirmed(false));
            }
            Message::Escape => return self.back(),
            Message::RunRemaining => return self.run_remaining(),
            Message::Progressed(id, progress) => {
                if self.is_current(id) {
                    self.session.apply(&progress);
                    if self.session.running_all
                        && matches!(progress.status, crate::Status::Running(_))
                    {
                        self.screen = Screen::of(progress.step);
                    }
                }
                Action::None
            }
            Message::Finished(id, outcome) => return self.finished(id, outcome),
            Message::ConfirmRequested(id, question) => {
                if self.is_current(id) {
                    let Question {
                        step,
                        detail,
                        snapshot,
                        reply,
                    } = question;
                    self.screen = Screen::of(step);
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
                }
                Action::None
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
            Message::Retest => credentials::retest(&self.session),
            Message::StepSelected(step) => {
                self.session.selected_step =
                    (self.session.selected_step != Some(step)).then_some(step);
                Action::None
            }
            Message::StepClosed => {
                self.session.selected_step = None;
                Action::None
            }
            Message::CopyUrl | Message::CopySecret | Message::ClearClipboard => {
                self.clipboard(&message)
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
                match self.screen {
                    Screen::Welcome => self.welcome.arrow(),
                    Screen::OrchideaSecret => self.secret.arrow(&self.session),
                    Screen::ChooseApp => self.choose_app.arrow(&self.session),
                    Screen::Scope => self.scope.arrow(&self.session),
                    _ => {}
                }
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

    fn perform(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::None => Vec::new(),
            Action::Fail(message) => {
                self.session.error = Some(Failure {
                    message,
                    retry: None,
                });
                Vec::new()
            }
            Action::Copy(text) => {
                if let Err(e) = self.session.copier.copy_text(&text) {
                    self.session.error = Some(Failure {
                        message: e.to_string(),
                        retry: None,
                    });
                }
                Vec::new()
            }
            Action::Open(url) => vec![Effect::Open(url)],
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
                self.session.running = Some(Running {
                    id,
                    op,
                    handle: None,
                });
                vec![Effect::Work(Work { id, stream })]
            }
        }
    }

    pub(super) fn screen_complete(&self) -> bool {
        let done = self.session.complete(self.screen.steps());
        match self.screen {
            Screen::OrchideaSecret => done && !self.secret.dirty,
            Screen::Scope => done && !self.scope.changed(&self.session),
            _ => done,
        }
    }

    pub fn view(&self) -> Element<'_, Message> {
        if !self.timing.on() {
            return view::view(self);
        }
        let began = std::time::Instant::now();
        let element = view::view(self);
        self.timing.record_view(began.elapsed());
        element
    }

    /// The run bench ends when the first cycle is done: prints, then exits.
    fn bench_run_done(&mut self) -> Option<Vec<Effect>> {
        let view = self.session.job_view.as_ref()?;
        if self.timing.mode != super::bench::BenchMode::Run
            || self.timing.done
            || !view.initial_cycle_done
        {
            return None;
        }
        self.timing.done = true;
        let provisioned = view.counts.iter().map(|(_, n)| n).sum();
        println!("{}", self.timing.run_line(provisioned));
        Some(vec![Effect::Exit])
    }

    pub fn title(&self) -> String {
        let place = match self.session.target {
            Some(Target::Sandbox(_)) => " (sandbox)",
            _ => "",
        };
        format!("Orchidea SCIM Setup — {}{place}", self.screen.title())
    }

    pub fn theme(&self) -> Option<Theme> {
        theme::for_mode(self.mode)
    }

    pub fn subscription(&self) -> Subscription<Message> {
        let ticking =
            self.session.is_busy() || self.session.copier.seconds_left(self.session.now).is_some();
        let watching =
            self.session.started() && matches!(self.screen, Screen::Start | Screen::Summary);
        let monitor = match (&self.session.engine, watching) {
            (Some(engine), true) => Subscription::run_with(
                Watch {
                    epoch: self.session.monitor_epoch,
                    engine: engine.clone(),
                },
                |w| work::monitor(w.engine.clone()),
            ),
            _ => Subscription::none(),
        };
        let frames = if self.timing.mode == super::bench::BenchMode::FirstFrame
            && self.timing.first_frame.is_none()
        {
            window::frames().map(Message::Frame)
        } else {
            Subscription::none()
        };
        Subscription::batch([
            monitor,
            frames,
            keyboard::listen().filter_map(key_message),
            window::close_requests().map(|id| Message::CloseRequested(Some(id))),
            iced::system::theme_changes().map(Message::ThemeChanged),
            if ticking {
                iced::time::every(Duration::from_millis(150)).map(Message::Tick)
            } else {
                Subscription::none()
            },
        ])
    }

    pub fn screen(&self) -> Screen {
        self.screen
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

/// The monitor's identity: a new epoch (new engine, restart) starts a
/// fresh poll with a short first delay.
struct Watch {
    epoch: u64,
    engine: crate::engine::Engine,
}

impl std::hash::Hash for Watch {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.epoch.hash(state);
    }
}

/// The keyboard path: Tab/Shift-Tab move focus, Enter is the primary button,
/// Esc is Back, Up/Down change the selected choice.
pub fn key_message(event: keyboard::Event) -> Option<Message> {
    let keyboard::Event::KeyPressed { key, modifiers, .. } = event else {
        return None;
    };
    match key.as_ref() {
        keyboard::Key::Named(Named::Tab) if modifiers.shift() => Some(Message::FocusPrevious),
        keyboard::Key::Named(Named::Tab) => Some(Message::FocusNext),
        keyboard::Key::Named(Named::Enter) => Some(Message::Primary),
        keyboard::Key::Named(Named::Escape) => Some(Message::Escape),
        keyboard::Key::Named(Named::ArrowUp | Named::ArrowDown) => Some(Message::Arrow),
        _ => None,
    }
}
