//! Step 16: start provisioning, then watch it: live status, one user on
//! demand, and the provisioning logs.

use iced::widget::{column, text};
use iced::{Element, Fill};

use crate::procedure::step::StepId;
use crate::ui::app::Message;
use crate::ui::panel;
use crate::ui::panel::after_start::AfterStart;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::widget;
use crate::ui::work::Op;

/// Step 16; the monitor below it is the after-start panel.
pub struct Start;

impl Start {
    pub fn primary(&self, _: &Session) -> Action {
        Action::Run(Op::steps(&[StepId::StartProvisioning]))
    }

    pub fn primary_label(&self, _: &Session) -> &'static str {
        "Start provisioning now"
    }

    pub fn view<'a>(&self, after: &'a AfterStart, session: &'a Session) -> Element<'a, Message> {
        view(after, session)
    }
}

fn view<'a>(after: &'a AfterStart, session: &'a Session) -> Element<'a, Message> {
    let mut page = column![
        text(
            "Starting provisioning makes Entra create, update and disable Orchidea users \
             on its regular cycle (about every 40 minutes). The wizard starts the job and \
             waits for the first cycle to report."
        )
        .size(15)
    ]
    .spacing(16)
    .width(Fill);
    let done = session
        .checklist
        .status(StepId::StartProvisioning)
        .is_complete();
    if !done
        && let Some(notice) = session
            .snapshot
            .as_ref()
            .and_then(|s| s.start_notice.clone())
    {
        page = page.push(widget::notice_banner(text(notice).size(14)));
    }
    page = page.push(panel::result(session, StepId::StartProvisioning));
    if session.started() {
        page = page
            .push(after.status(session).map(Message::AfterStart))
            .push(after.on_demand(session).map(Message::AfterStart))
            .push(after.logs(session).map(Message::AfterStart));
    }
    page.into()
}
