//! Steps 3–5: provisioning mode Automatic, Tenant URL and Secret Token, and
//! the Test Connection result with a retry that needs no retyping.

use iced::widget::{column, text};
use iced::{Element, Fill};

use crate::procedure::step::StepId;
use crate::ui::app::Message;
use crate::ui::panel;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::work::Op;

pub const STEPS: [StepId; 3] = [
    StepId::OpenProvisioning,
    StepId::AutomaticMode,
    StepId::TestConnection,
];

/// Steps 3–5; it has no state of its own (the session holds the facts).
pub struct Credentials;

impl Credentials {
    pub fn primary(&self, _: &Session) -> Action {
        submit()
    }

    pub fn primary_label(&self, _: &Session) -> &'static str {
        "Test connection"
    }

    pub fn view<'a>(&self, session: &'a Session) -> Element<'a, Message> {
        view(session)
    }
}

fn submit() -> Action {
    Action::Run(Op::steps(&STEPS))
}

/// "Test again": the failed steps, or step 5 once more if all passed.
pub fn retest(session: &Session) -> Action {
    if session.complete(&STEPS) {
        Action::Run(Op::Steps {
            steps: vec![StepId::TestConnection],
            again: true,
        })
    } else {
        submit()
    }
}

fn view(session: &Session) -> Element<'_, Message> {
    let intro = text(
        "The wizard opens the app's provisioning, sets the mode to Automatic (it creates \
         the provisioning job from the SCIM template if there is none), and asks Entra to \
         test the connection with the SCIM URL as Tenant URL and the SCIM secret as \
         Secret Token.",
    )
    .size(15);
    let mut page = column![intro].spacing(16).width(Fill);
    if let Some(app) = session.facts().and_then(|f| f.app.as_ref()) {
        page = page.push(
            text(format!(
                "Enterprise application: {} ({})",
                app.display_name.as_deref().unwrap_or("(unnamed)"),
                app.id
            ))
            .size(14),
        );
    }
    page = page.push(panel::scim_block(session));
    page = page.push(panel::test_connection(session, true));
    page.into()
}
