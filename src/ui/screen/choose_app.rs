//! Step 2: which enterprise application is Orchidea's. Apps that cannot
//! provision stay visible, greyed, with the reason.

use iced::widget::{column, text};
use iced::{Element, Fill};

use crate::engine::{AppCandidate, Capability, EngineError};
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::Op;

pub const NO_APP_SELECTED: &str = "No application selected. Click the Orchidea enterprise application in the list, then continue.";

#[derive(Default)]
pub struct ChooseApp {
    selected: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Selected(String),
}

impl ChooseApp {
    /// Selecting an app that cannot provision explains why instead.
    pub fn update(&mut self, message: Message, session: &Session) -> Action {
        let Message::Selected(id) = message;
        let Some(candidate) = candidates(session)
            .iter()
            .find(|c| c.service_principal.id == id)
        else {
            return Action::None;
        };
        if candidate.capability.can_provision() {
            self.selected = Some(id);
            Action::None
        } else {
            self.selected = None;
            Action::Fail(
                EngineError::AppCannotProvision {
                    name: candidate.name().to_string(),
                    reason: candidate.capability.reason().to_string(),
                }
                .to_string(),
            )
        }
    }

    /// Up/Down cycles through the apps that can provision.
    pub fn arrow(&mut self, session: &Session) {
        let capable: Vec<&str> = candidates(session)
            .iter()
            .filter(|c| c.capability.can_provision())
            .map(|c| c.service_principal.id.as_str())
            .collect();
        let at = capable
            .iter()
            .position(|id| Some(*id) == self.selected.as_deref())
            .map_or(0, |i| (i + 1) % capable.len().max(1));
        self.selected = capable.get(at).map(|id| (*id).to_string());
    }

    pub fn submit(&self) -> Action {
        match &self.selected {
            Some(id) => Action::Run(Op::ChooseApp(id.clone())),
            None => Action::Fail(NO_APP_SELECTED.into()),
        }
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let list = candidates(session);
        let intro = text(
            "These enterprise applications match \"Orchidea\". Pick the one your users \
             sign in to Orchidea with. Apps that cannot provision users are greyed out.",
        )
        .size(15);
        let body: Element<'a, Message> = if list.is_empty() {
            text(
                "No enterprise application was found yet. Finish step 1 first; if this \
                 stays empty, create the Orchidea SSO app in Entra (Enterprise applications → \
                 New application).",
            )
            .size(14)
            .style(theme::muted)
            .into()
        } else {
            column(list.iter().map(|c| self.entry(c))).spacing(8).into()
        };
        column![intro, body].spacing(16).width(Fill).into()
    }

    fn entry<'a>(&self, c: &'a AppCandidate) -> Element<'a, Message> {
        let id = &c.service_principal.id;
        let description = match &c.capability {
            Capability::Scim {
                template_id,
                has_job,
            } => {
                let job = if *has_job {
                    "; provisioning is already set up"
                } else {
                    ""
                };
                format!("Can provision over SCIM (template \"{template_id}\"){job}. Id {id}")
            }
            other => format!("Cannot provision: {}", other.reason()),
        };
        widget::choice(
            c.name(),
            description,
            self.selected.as_deref() == Some(id.as_str()),
            c.capability.can_provision(),
            Message::Selected(id.clone()),
        )
    }
}

fn candidates(session: &Session) -> &[AppCandidate] {
    session.facts().map_or(&[], |f| f.candidates.as_slice())
}
