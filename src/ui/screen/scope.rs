//! Steps 14–15: who gets provisioned, saved with every other setting kept.

use iced::widget::{column, text};
use iced::{Element, Fill};

use crate::engine::Scope;
use crate::step::StepId;
use crate::ui::panel;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::widget;
use crate::ui::work::Op;

#[derive(Default)]
pub struct ScopeScreen {
    chosen: Option<Scope>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Selected(Scope),
}

impl ScopeScreen {
    pub fn update(&mut self, message: Message) {
        let Message::Selected(scope) = message;
        self.chosen = Some(scope);
    }

    /// The admin's choice, else what the engine will save.
    pub fn scope(&self, session: &Session) -> Scope {
        self.chosen
            .or(session.snapshot.as_ref().map(|s| s.scope))
            .unwrap_or(Scope::Assigned)
    }

    pub fn arrow(&mut self, session: &Session) {
        self.chosen = Some(match self.scope(session) {
            Scope::Assigned => Scope::All,
            Scope::All => Scope::Assigned,
        });
    }

    pub fn submit(&self, session: &Session) -> Action {
        Action::Run(Op::SetScope(self.scope(session)))
    }

    /// The choice changed after it was saved: Save again instead of Next.
    pub fn changed(&self, session: &Session) -> bool {
        self.chosen
            .is_some_and(|c| session.snapshot.as_ref().is_some_and(|s| s.scope != c))
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let scope = self.scope(session);
        column![
            text("Which users and groups should Entra provision to Orchidea?").size(15),
            widget::choice(
                Scope::Assigned.label(),
                "Recommended. Only users and groups assigned to the Orchidea app \
                 (Users and groups in the app) get an Orchidea account.",
                scope == Scope::Assigned,
                true,
                Message::Selected(Scope::Assigned),
            ),
            widget::choice(
                Scope::All.label(),
                "Everyone in the directory with a mail address gets an Orchidea account.",
                scope == Scope::All,
                true,
                Message::Selected(Scope::All),
            ),
            panel::result(session, StepId::SaveSettings),
        ]
        .spacing(12)
        .width(Fill)
        .into()
    }
}
