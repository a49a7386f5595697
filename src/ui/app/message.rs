//! The root's messages, and what it asks of the runtime.

use std::time::Duration;

use futures::stream::BoxStream;
use iced::theme::Mode;
use iced::window;

use crate::procedure::checklist::Progress;
use crate::procedure::step::StepId;
use crate::ui::panel::{after_start, backups, secret_age};
use crate::ui::screen::{choose_app, drift, orchidea_secret, scope, sso, welcome};
use crate::ui::work::{Observation, Outcome, Question};

#[derive(Debug, Clone)]
pub enum Message {
    Welcome(welcome::Message),
    Sso(sso::Message),
    Secret(orchidea_secret::Message),
    ChooseApp(choose_app::Message),
    Scope(scope::Message),
    Drift(drift::Message),
    AfterStart(after_start::Message),
    Backups(backups::Message),
    Rotate(crate::ui::panel::rotate::Message),
    SecretAge(secret_age::Message),
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
