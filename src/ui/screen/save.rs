//! Step 6: save Tenant URL and Secret Token, keeping every other setting.

use iced::widget::{column, text};
use iced::{Element, Fill};

use crate::procedure::step::StepId;
use crate::ui::app::Message;
use crate::ui::panel;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::work::Op;

/// Step 6; it has no state of its own.
pub struct Save;

impl Save {
    pub fn primary(&self, _: &Session) -> Action {
        Action::Run(Op::steps(&[StepId::SaveCredentials]))
    }

    pub fn primary_label(&self, _: &Session) -> &'static str {
        "Save credentials"
    }

    pub fn view<'a>(&self, session: &'a Session) -> Element<'a, Message> {
        view(session)
    }
}

fn view(session: &Session) -> Element<'_, Message> {
    column![
        text(
            "Entra keeps the provisioning credentials as one set: saving replaces it. \
             The wizard reads the current set first and sends back every other setting \
             unchanged, with the Tenant URL and Secret Token that passed the test."
        )
        .size(15),
        panel::scim_block(session),
        panel::result(session, StepId::SaveCredentials),
    ]
    .spacing(16)
    .width(Fill)
    .into()
}
