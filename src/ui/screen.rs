//! The screens, in the article's order. Navigation is data: [`Screen::ALL`]
//! with `next`/`previous`, and each screen names the steps it covers.

pub mod after_start;
pub mod backups;
pub mod choose_app;
pub mod credentials;
pub mod mappings;
pub mod orchidea_secret;
pub mod save;
pub mod scope;
pub mod sign_in;
pub mod start;
pub mod summary;
pub mod welcome;

use super::work::Op;
use crate::procedure::step::StepId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Welcome,
    OrchideaSecret,
    ChooseApp,
    Credentials,
    Save,
    Mappings,
    Scope,
    Start,
    Summary,
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
}

impl Screen {
    pub const ALL: [Screen; 9] = [
        Screen::Welcome,
        Screen::OrchideaSecret,
        Screen::ChooseApp,
        Screen::Credentials,
        Screen::Save,
        Screen::Mappings,
        Screen::Scope,
        Screen::Start,
        Screen::Summary,
    ];

    pub fn next(self) -> Option<Screen> {
        crate::procedure::step::neighbour(&Self::ALL, self, 1)
    }

    pub fn previous(self) -> Option<Screen> {
        crate::procedure::step::neighbour(&Self::ALL, self, -1)
    }

    /// The article's steps this screen covers.
    pub fn steps(self) -> &'static [StepId] {
        use StepId::*;
        match self {
            Screen::Welcome | Screen::Summary => &[],
            Screen::OrchideaSecret => &[CreateSecret, ChooseIdp, CopyUrlAndSecret],
            Screen::ChooseApp => &[OpenEnterpriseApp],
            Screen::Credentials => &[OpenProvisioning, AutomaticMode, TestConnection],
            Screen::Save => &[SaveCredentials],
            Screen::Mappings => &[
                OpenMappings,
                OpenUserMapping,
                KeepFiveAttributes,
                EditUserName,
                UserNameFromMail,
                EditExternalId,
                ExternalIdFromObjectId,
            ],
            Screen::Scope => &[ChooseScope, SaveSettings],
            Screen::Start => &[StartProvisioning],
        }
    }

    /// The screen that shows `step`.
    pub fn of(step: StepId) -> Screen {
        Self::ALL
            .into_iter()
            .find(|s| s.steps().contains(&step))
            .unwrap_or(Screen::Summary)
    }

    pub fn title(self) -> &'static str {
        match self {
            Screen::Welcome => "Welcome",
            Screen::OrchideaSecret => "Orchidea SCIM secret",
            Screen::ChooseApp => "Choose the enterprise application",
            Screen::Credentials => "Provisioning mode and credentials",
            Screen::Save => "Save the credentials",
            Screen::Mappings => "Attribute mappings",
            Screen::Scope => "Scope",
            Screen::Start => "Start provisioning with SCIM",
            Screen::Summary => "Summary",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screens_cover_every_step_once_in_order() {
        let covered: Vec<StepId> = Screen::ALL
            .iter()
            .flat_map(|s| s.steps().to_vec())
            .collect();
        assert_eq!(covered, StepId::ALL);
        for step in StepId::ALL {
            assert!(Screen::of(step).steps().contains(&step));
        }
    }

    #[test]
    fn navigation_is_data() {
        assert_eq!(Screen::Welcome.previous(), None);
        assert_eq!(Screen::Welcome.next(), Some(Screen::OrchideaSecret));
        assert_eq!(Screen::Summary.next(), None);
        assert_eq!(Screen::OrchideaSecret.step_range(), "Steps 1a–1c");
        assert_eq!(Screen::Save.step_range(), "Step 6");
    }
}
