//! Steps 7–13: read the user mapping, show exactly what will change, and
//! write it only when the admin clicks Apply.

use iced::widget::{column, text};
use iced::{Element, Fill};

use crate::procedure::step::StepId;
use crate::ui::app::Message;
use crate::ui::panel;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::Op;

pub const STEPS: [StepId; 7] = [
    StepId::OpenMappings,
    StepId::OpenUserMapping,
    StepId::KeepFiveAttributes,
    StepId::EditUserName,
    StepId::UserNameFromMail,
    StepId::EditExternalId,
    StepId::ExternalIdFromObjectId,
];

const READ: [StepId; 2] = [StepId::OpenMappings, StepId::OpenUserMapping];

/// Steps 7–13; the plan it shows is in the session's facts.
pub struct Mappings;

impl Mappings {
    /// Reading the mapping changes nothing, so it runs as soon as the screen opens.
    pub fn on_enter(&self, session: &Session) -> Action {
        if session.engine.is_some() && !session.complete(&READ) && !session.is_busy() {
            Action::Run(Op::steps(&READ))
        } else {
            Action::None
        }
    }

    pub fn primary_label(&self, session: &Session) -> &'static str {
        match session.facts().and_then(|f| f.mapping.as_ref()) {
            _ if !session.complete(&READ) => "Read mappings",
            Some(plan) if plan.is_noop() => "Confirm mappings",
            _ => "Apply",
        }
    }

    pub fn primary(&self, session: &Session) -> Action {
        if session.complete(&READ) {
            Action::Run(Op::steps(&STEPS[2..]))
        } else {
            Action::Run(Op::steps(&READ))
        }
    }

    pub fn view<'a>(&self, session: &'a Session) -> Element<'a, Message> {
        view(session)
    }
}

fn view(session: &Session) -> Element<'_, Message> {
    let mut page = column![
        text(
            "Orchidea needs exactly five attributes in \"Provision Microsoft Entra ID Users\": \
             userName from mail, externalId from objectId (matching precedence 2), active, \
             name.givenName and name.familyName. The wizard computes the change, shows it \
             here, and writes the whole mapping once when you click Apply."
        )
        .size(15)
    ]
    .spacing(16)
    .width(Fill);
    let applied = session
        .checklist
        .status(StepId::ExternalIdFromObjectId)
        .is_complete();
    // Step 9 re-read the schema and found another admin's change: the
    // diff below was computed again and nothing was written.
    if let crate::Status::Failed(why) = session.checklist.status(StepId::KeepFiveAttributes)
        && why.starts_with(crate::engine::SCHEMA_CHANGED)
    {
        page = page.push(widget::notice_banner(
            text(
                "Someone changed the mappings in Entra since this screen read them, so nothing \
                 was written. The changes below were computed again from what Entra holds now; \
                 click Apply to write them.",
            )
            .size(14),
        ));
    }
    match session.facts().and_then(|f| f.mapping.as_ref()) {
        None => {
            page = page.push(
                text("Reading the current mapping…")
                    .size(14)
                    .style(theme::muted),
            );
        }
        Some(plan) if plan.is_noop() => {
            page = page.push(widget::success_banner(
                "The mappings already match Orchidea's specification; nothing will be written.",
            ));
        }
        Some(plan) => {
            let heading = if applied {
                format!("Applied to \"{}\":", plan.mapping_name)
            } else {
                format!("Changes to \"{}\" (not written yet):", plan.mapping_name)
            };
            page = page
                .push(text(heading).size(15))
                .push(widget::code_block(plan.diff_lines()));
        }
    }
    page.push(panel::result(session, StepId::ExternalIdFromObjectId))
        .into()
}
