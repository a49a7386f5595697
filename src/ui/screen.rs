//! The screens, in the article's order. Each `screen/*.rs` owns its state,
//! its `Message`, `update`, `view`, `primary`/`primary_label`,
//! `is_complete` and `on_enter`; [`Screen`] only dispatches to them.
//! Navigation is data: [`ScreenId::ALL`] with `next`/`previous`, and each
//! screen names the steps it covers.

pub mod choose_app;
pub mod credentials;
pub mod drift;
pub mod mappings;
pub mod orchidea_secret;
pub mod save;
pub mod scope;
pub mod sso;
pub mod start;
pub mod summary;
pub mod welcome;

use iced::Element;

pub use choose_app::ChooseApp;
pub use credentials::Credentials;
pub use drift::Drift;
pub use mappings::Mappings;
pub use orchidea_secret::OrchideaSecret;
pub use save::Save;
pub use scope::ScopeScreen;
pub use sso::Sso;
pub use start::Start;
pub use summary::Summary;
pub use welcome::Welcome;

use super::app;
use super::panel::after_start::AfterStart;
use super::panel::backups::Backups;
use super::panel::sign_in::SignedIn;
use super::session::Session;
use super::work::Op;
use crate::platform::secret::Secret;
use crate::procedure::step::{StepGroup, StepId};

/// Which screen: the navigation data (order, steps, titles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScreenId {
    Welcome,
    Sso,
    OrchideaSecret,
    ChooseApp,
    Credentials,
    Save,
    Mappings,
    Scope,
    Start,
    Summary,
    /// The drift check, first when a setup already exists; outside the
    /// wizard's order (not in [`ScreenId::ALL`]).
    Drift,
}

/// A screen with its state. The root keeps one of each, in [`ScreenId::ALL`]
/// order, so what was typed survives Back and Next.
pub enum Screen {
    Welcome(Welcome),
    Sso(Sso),
    OrchideaSecret(OrchideaSecret),
    ChooseApp(ChooseApp),
    Credentials(Credentials),
    Save(Save),
    Mappings(Mappings),
    Scope(ScopeScreen),
    Start(Start),
    Summary(Summary),
    Drift(Drift),
}

/// A message for the screen that owns it (the root routes by variant).
#[derive(Debug, Clone)]
pub enum Message {
    Welcome(welcome::Message),
    Sso(sso::Message),
    Secret(orchidea_secret::Message),
    ChooseApp(choose_app::Message),
    Scope(scope::Message),
    Drift(drift::Message),
}

/// What a screen asks the root to do; screens never navigate themselves.
#[derive(Debug, Clone)]
#[must_use]
pub enum Action {
    None,
    /// Start work (engine steps, sandbox, look-ups) as a cancellable task.
    Run(Op),
    /// Show a message in the error banner; every field stays as typed.
    Fail(String),
    /// Put this (not secret) text on the clipboard: a device code, a link.
    Copy(String),
    /// Open this page in the system browser.
    Open(url::Url),
    /// Move on to the next screen.
    Next,
    /// Build the engine for the secret path chosen on screen 1, then run 1a–1c.
    Connect(orchidea_secret::Connect),
    /// Work on the signed-in tenant (with Orchidea's admin API when given).
    OpenTenant(Box<SignedIn>, Option<(url::Url, Secret)>),
    /// Close the window (asks first while a step writes).
    Close,
    /// "Run the remaining steps", as its button does.
    RunRemaining,
    /// Open this screen (and run what it runs as it opens).
    Go(ScreenId),
}

impl ScreenId {
    pub const ALL: [ScreenId; 10] = [
        ScreenId::Welcome,
        ScreenId::Sso,
        ScreenId::OrchideaSecret,
        ScreenId::ChooseApp,
        ScreenId::Credentials,
        ScreenId::Save,
        ScreenId::Mappings,
        ScreenId::Scope,
        ScreenId::Start,
        ScreenId::Summary,
    ];

    pub fn next(self) -> Option<ScreenId> {
        (self != ScreenId::Drift)
            .then(|| crate::procedure::step::neighbour(&Self::ALL, self, 1))
            .flatten()
    }

    pub fn previous(self) -> Option<ScreenId> {
        (self != ScreenId::Drift)
            .then(|| crate::procedure::step::neighbour(&Self::ALL, self, -1))
            .flatten()
    }

    /// Where this screen sits in [`ScreenId::ALL`] (the drift screen after them).
    pub fn index(self) -> usize {
        match self {
            ScreenId::Drift => Self::ALL.len(),
            _ => crate::procedure::step::position(&Self::ALL, self),
        }
    }

    /// The step group this screen works on (credentials spans two screens:
    /// test, then save).
    pub fn group(self) -> Option<StepGroup> {
        match self {
            ScreenId::Welcome | ScreenId::Summary | ScreenId::Drift => None,
            ScreenId::Sso => Some(StepGroup::Sso),
            ScreenId::OrchideaSecret => Some(StepGroup::Secret),
            ScreenId::ChooseApp => Some(StepGroup::App),
            ScreenId::Credentials | ScreenId::Save => Some(StepGroup::Credentials),
            ScreenId::Mappings => Some(StepGroup::Mappings),
            ScreenId::Scope => Some(StepGroup::Scope),
            ScreenId::Start => Some(StepGroup::Start),
        }
    }

    /// The article's steps this screen covers.
    pub fn steps(self) -> &'static [StepId] {
        match self {
            ScreenId::Welcome | ScreenId::Summary | ScreenId::Drift => &[],
            ScreenId::Sso => &sso::STEPS,
            ScreenId::OrchideaSecret => &orchidea_secret::STEPS,
            ScreenId::ChooseApp => &[StepId::OpenEnterpriseApp],
            ScreenId::Credentials => &credentials::STEPS,
            ScreenId::Save => &[StepId::SaveCredentials],
            ScreenId::Mappings => &mappings::STEPS,
            ScreenId::Scope => &[StepId::ChooseScope, StepId::SaveSettings],
            ScreenId::Start => &[StepId::StartProvisioning],
        }
    }

    /// The screen that shows `step`.
    pub fn of(step: StepId) -> ScreenId {
        Self::ALL
            .into_iter()
            .find(|s| s.steps().contains(&step))
            .unwrap_or(ScreenId::Summary)
    }

    pub fn title(self) -> &'static str {
        match self {
            ScreenId::Welcome => "Welcome",
            ScreenId::Sso => "Single sign-on (SAML)",
            ScreenId::OrchideaSecret => "Orchidea SCIM secret",
            ScreenId::ChooseApp => "Choose the enterprise application",
            ScreenId::Credentials => "Provisioning mode and credentials",
            ScreenId::Save => "Save the credentials",
            ScreenId::Mappings => "Attribute mappings",
            ScreenId::Scope => "Scope",
            ScreenId::Start => "Start provisioning with SCIM",
            ScreenId::Summary => "Summary",
            ScreenId::Drift => "Check of the existing setup",
        }
    }

    /// "Steps 1a–1c" for the heading.
    pub fn step_range(self) -> String {
        match self.steps() {
            [] => String::new(),
            [one] => format!("Step {}", one.number()),
            [first, .., last] => format!("Steps {}–{}", first.number(), last.number()),
        }
    }
}

impl Message {
    /// The screen this message is for.
    pub fn screen(&self) -> ScreenId {
        match self {
            Message::Welcome(_) => ScreenId::Welcome,
            Message::Sso(_) => ScreenId::Sso,
            Message::Secret(_) => ScreenId::OrchideaSecret,
            Message::ChooseApp(_) => ScreenId::ChooseApp,
            Message::Scope(_) => ScreenId::Scope,
            Message::Drift(_) => ScreenId::Drift,
        }
    }
}

impl Screen {
    /// One of each screen, in order; the first one as given.
    pub fn all(welcome: Welcome) -> Vec<Screen> {
        vec![
            Screen::Welcome(welcome),
            Screen::Sso(Sso::default()),
            Screen::OrchideaSecret(OrchideaSecret::default()),
            Screen::ChooseApp(ChooseApp::default()),
            Screen::Credentials(Credentials),
            Screen::Save(Save),
            Screen::Mappings(Mappings),
            Screen::Scope(ScopeScreen::default()),
            Screen::Start(Start),
            Screen::Summary(Summary),
            Screen::Drift(Drift::default()),
        ]
    }

    pub fn id(&self) -> ScreenId {
        match self {
            Screen::Welcome(_) => ScreenId::Welcome,
            Screen::Sso(_) => ScreenId::Sso,
            Screen::OrchideaSecret(_) => ScreenId::OrchideaSecret,
            Screen::ChooseApp(_) => ScreenId::ChooseApp,
            Screen::Credentials(_) => ScreenId::Credentials,
            Screen::Save(_) => ScreenId::Save,
            Screen::Mappings(_) => ScreenId::Mappings,
            Screen::Scope(_) => ScreenId::Scope,
            Screen::Start(_) => ScreenId::Start,
            Screen::Summary(_) => ScreenId::Summary,
            Screen::Drift(_) => ScreenId::Drift,
        }
    }

    /// Hands `message` to this screen when it is the one it is for.
    pub fn update(&mut self, message: Message, session: &mut Session) -> Action {
        match (self, message) {
            (Screen::Welcome(s), Message::Welcome(m)) => s.update(m, session),
            (Screen::Sso(s), Message::Sso(m)) => s.update(m, session),
            (Screen::OrchideaSecret(s), Message::Secret(m)) => s.update(m, session),
            (Screen::ChooseApp(s), Message::ChooseApp(m)) => s.update(m, session),
            (Screen::Scope(s), Message::Scope(m)) => s.update(m, session),
            (Screen::Drift(s), Message::Drift(m)) => s.update(m, session),
            _ => Action::None,
        }
    }

    /// What the primary button (and Enter) does when the screen's steps
    /// are not all complete yet.
    pub fn primary(&mut self, session: &Session) -> Action {
        match self {
            Screen::Welcome(s) => s.primary(session),
            Screen::Sso(s) => s.primary(session),
            Screen::OrchideaSecret(s) => s.primary(session),
            Screen::ChooseApp(s) => s.primary(session),
            Screen::Credentials(s) => s.primary(session),
            Screen::Save(s) => s.primary(session),
            Screen::Mappings(s) => s.primary(session),
            Screen::Scope(s) => s.primary(session),
            Screen::Start(s) => s.primary(session),
            Screen::Summary(s) => s.primary(session),
            Screen::Drift(s) => s.primary(session),
        }
    }

    pub fn primary_label(&self, session: &Session) -> &'static str {
        let complete = self.is_complete(session);
        match self {
            Screen::Welcome(s) => s.primary_label(session),
            Screen::Summary(s) => s.primary_label(session),
            Screen::Drift(s) => s.primary_label(session),
            Screen::Start(_) if complete => "Finish",
            _ if complete => "Next",
            Screen::Sso(s) => s.primary_label(session),
            Screen::OrchideaSecret(s) => s.primary_label(session),
            Screen::ChooseApp(s) => s.primary_label(session),
            Screen::Credentials(s) => s.primary_label(session),
            Screen::Save(s) => s.primary_label(session),
            Screen::Mappings(s) => s.primary_label(session),
            Screen::Scope(s) => s.primary_label(session),
            Screen::Start(s) => s.primary_label(session),
        }
    }

    /// Whether every step of the screen is done and nothing was edited since.
    pub fn is_complete(&self, session: &Session) -> bool {
        match self {
            Screen::Sso(s) => s.is_complete(session),
            Screen::OrchideaSecret(s) => s.is_complete(session),
            Screen::Scope(s) => s.is_complete(session),
            _ => session.complete(self.id().steps()),
        }
    }

    /// Work that changes nothing and runs as soon as the screen opens.
    pub fn on_enter(&self, session: &Session) -> Action {
        match self {
            Screen::Sso(s) => s.on_enter(session),
            Screen::OrchideaSecret(s) => s.on_enter(session),
            Screen::Mappings(s) => s.on_enter(session),
            Screen::Scope(s) => s.on_enter(session),
            Screen::Summary(s) => s.on_enter(session),
            _ => Action::None,
        }
    }

    /// Up/Down: the next choice on screens that offer one.
    pub fn arrow(&mut self, session: &Session) {
        match self {
            Screen::Welcome(s) => s.arrow(),
            Screen::Sso(s) => s.arrow(session),
            Screen::OrchideaSecret(s) => s.arrow(session),
            Screen::ChooseApp(s) => s.arrow(session),
            Screen::Scope(s) => s.arrow(session),
            _ => {}
        }
    }

    pub fn view<'a>(
        &'a self,
        session: &'a Session,
        after: &'a AfterStart,
        backups: &'a Backups,
        rotate: &'a crate::ui::panel::rotate::Rotate,
    ) -> Element<'a, app::Message> {
        match self {
            Screen::Welcome(s) => s.view().map(app::Message::Welcome),
            Screen::Sso(s) => s.page(session),
            Screen::OrchideaSecret(s) => s.page(session),
            Screen::ChooseApp(s) => s.page(session),
            Screen::Credentials(s) => s.view(session),
            Screen::Save(s) => s.view(session),
            Screen::Mappings(s) => s.view(session),
            Screen::Scope(s) => s.view(session).map(app::Message::Scope),
            Screen::Start(s) => s.view(after, session),
            Screen::Summary(s) => s.view(after, backups, rotate, session),
            Screen::Drift(s) => s.page(session, rotate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screens_cover_every_step_once_in_order() {
        let covered: Vec<StepId> = ScreenId::ALL
            .iter()
            .flat_map(|s| s.steps().to_vec())
            .collect();
        assert_eq!(covered, StepId::ALL);
        for step in StepId::ALL {
            assert!(ScreenId::of(step).steps().contains(&step));
        }
    }

    #[test]
    fn screens_follow_the_step_groups() {
        for screen in ScreenId::ALL {
            for step in screen.steps() {
                assert_eq!(Some(step.group()), screen.group(), "{screen:?} {step:?}");
            }
        }
    }

    #[test]
    fn the_root_keeps_one_of_each_screen_in_order() {
        let ids: Vec<ScreenId> = Screen::all(Welcome::default())
            .iter()
            .map(Screen::id)
            .collect();
        assert_eq!(ids[..ScreenId::ALL.len()], ScreenId::ALL);
        assert_eq!(ids.last(), Some(&ScreenId::Drift));
        assert!(ids.iter().enumerate().all(|(i, s)| s.index() == i));
    }

    #[test]
    fn navigation_is_data() {
        assert_eq!(ScreenId::Welcome.previous(), None);
        assert_eq!(ScreenId::Welcome.next(), Some(ScreenId::Sso));
        assert_eq!(ScreenId::Sso.next(), Some(ScreenId::OrchideaSecret));
        assert_eq!(ScreenId::Sso.step_range(), "Step 0");
        assert_eq!(ScreenId::Summary.next(), None);
        assert_eq!(ScreenId::OrchideaSecret.step_range(), "Steps 1a–1c");
        assert_eq!(ScreenId::Save.step_range(), "Step 6");
        // The drift screen is outside the order: its buttons lead on.
        assert_eq!(ScreenId::Drift.next(), None);
        assert_eq!(ScreenId::Drift.previous(), None);
    }
}
