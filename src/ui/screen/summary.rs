//! The end: what is configured now, what this run changed, what is left.

use iced::widget::{column, row, text};
use iced::{Element, Fill, Length};

use crate::engine::Scope;
use crate::procedure::step::StepId;
use crate::ui::app::Message;
use crate::ui::panel::after_start::AfterStart;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::Op;

/// The end: nothing to run, Close instead of Next.
pub struct Summary;

impl Summary {
    /// The backups list, read when the engine exists.
    pub fn on_enter(&self, session: &Session) -> Action {
        if session.engine.is_some() {
            Action::Run(Op::ListBackups)
        } else {
            Action::None
        }
    }

    pub fn primary(&self, _: &Session) -> Action {
        Action::Close
    }

    pub fn primary_label(&self, _: &Session) -> &'static str {
        "Close"
    }

    pub fn view<'a>(
        &self,
        after: &'a AfterStart,
        backups: &'a crate::ui::panel::backups::Backups,
        rotate: &'a crate::ui::panel::rotate::Rotate,
        session: &'a Session,
    ) -> Element<'a, Message> {
        view(after, backups, rotate, session)
    }
}

fn view<'a>(
    after: &'a AfterStart,
    backups: &'a crate::ui::panel::backups::Backups,
    rotate: &'a crate::ui::panel::rotate::Rotate,
    session: &'a Session,
) -> Element<'a, Message> {
    let total = StepId::ALL.len();
    let done = session.checklist.completed();
    let mut page = column![].spacing(16).width(Fill);
    page = page.push(if session.checklist.all_complete() {
        widget::success_banner(format!(
            "Provisioning is set up: all {total} steps are complete."
        ))
    } else {
        widget::error_banner(
            "Not finished yet: go back to the first open step in the checklist.",
            None,
        )
    });
    if !session.checklist.all_complete() {
        page = page.push(text(format!("{done} of {total} steps complete.")).size(14));
    }
    if let Some(snapshot) = &session.snapshot {
        let facts = &snapshot.facts;
        let app = facts.app.as_ref().map_or("—".to_string(), |a| {
            format!(
                "{} ({})",
                a.display_name.as_deref().unwrap_or("(unnamed)"),
                a.id
            )
        });
        let job = facts.job.as_ref().map_or("—".to_string(), |j| j.id.clone());
        // The live reading once the monitor has one; else what step 16 saw.
        let status = match &session.job_view {
            Some(view) => format!("{}: {}", view.code, view.headline),
            None => session
                .checklist
                .status(StepId::StartProvisioning)
                .detail()
                .to_string(),
        };
        let scim = facts.scim.as_ref();
        let url = scim.map_or("—".to_string(), |s| s.url.to_string());
        let secret = scim.and_then(|s| s.secret.as_ref()).map_or(
            "kept by Entra (not shown)".to_string(),
            crate::platform::secret::Secret::masked,
        );
        page = page.push(
            column![
                fact("Enterprise app", app),
                fact("Provisioning job", job),
                fact("Job status", status),
                fact("SCIM URL", url),
                fact("SCIM secret", secret),
                fact("Scope", snapshot.scope.label().to_string()),
            ]
            .spacing(6),
        );
        page = page.push(text("Changes made in this run").size(17));
        page = page.push(if facts.changes.is_empty() {
            Element::from(
                text("None: the tenant was already configured this way.")
                    .size(14)
                    .style(theme::muted),
            )
        } else {
            // The mapping edit lists every attribute; the diff is on its screen.
            column(
                facts
                    .changes
                    .iter()
                    .map(|c| text(format!("•  {}", widget::clip(c, 200))).size(14).into()),
            )
            .spacing(4)
            .into()
        });
        let assign = if snapshot.scope == Scope::Assigned {
            "•  Assign the users and groups who need Orchidea to the enterprise app \
             (Users and groups); only they are provisioned."
        } else {
            "•  Every user with a mail address will be provisioned."
        };
        page = page.push(
            column![
                text("What to check next").size(17),
                text(assign).size(14),
                text(
                    "•  The live status and the provisioning logs below show which users \
                     reached Orchidea and why any were skipped."
                )
                .size(14),
            ]
            .spacing(6),
        );
    }
    if session.started() {
        page = page
            .push(after.status(session).map(Message::AfterStart))
            .push(after.logs(session).map(Message::AfterStart));
    }
    if session.snapshot.is_some() {
        page = page.push(session.secret_ages.view(session).map(Message::SecretAge));
        page = page.push(after.export(session).map(Message::AfterStart));
        if session
            .checklist
            .status(StepId::SaveCredentials)
            .is_complete()
        {
            page = page.push(rotate.view(session).map(Message::Rotate));
        }
        page = page.push(backups.view(session).map(Message::Backups));
    }
    page.into()
}

fn fact(label: &str, value: String) -> Element<'_, Message> {
    row![
        text(label)
            .size(14)
            .style(theme::muted)
            .width(Length::Fixed(140.0)),
        text(value).size(14).width(Fill),
    ]
    .spacing(10)
    .into()
}
