//! Panels several screens share: the SCIM URL and secret with copy
//! buttons, the Test Connection result, and a step's outcome.

use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Fill, Length};

use crate::procedure::checklist::Status;
use crate::procedure::step::StepId;
use crate::services::probe::{Check, CheckOutcome};
use crate::ui::app::Message;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;

/// The SCIM URL and secret, with copy buttons; empty until step 1a ran.
pub fn scim_block(session: &Session) -> Element<'_, Message> {
    let Some(scim) = session.scim() else {
        return column![].into();
    };
    let url = widget::copy_row(
        "SCIM URL",
        scim.url.to_string(),
        "Copy URL",
        Message::CopyUrl,
    );
    let secret: Element<'_, Message> = match &scim.secret {
        Some(secret) => widget::secret_row(
            if session.reveal_secret {
                secret.expose().to_string()
            } else {
                secret.masked()
            },
            session.reveal_secret,
            Message::RevealSecret,
            Message::CopySecret,
            session.copier.seconds_left(session.now),
            Message::ClearClipboard,
        ),
        None => text(
            "Entra already holds a working secret for this URL, so the wizard did not make a new one.",
        )
        .size(14)
        .style(theme::muted)
        .into(),
    };
    container(column![url, secret].spacing(10))
        .padding(14)
        .width(Fill)
        .style(theme::card)
        .into()
}

/// The desktop pre-flight checks and, on the credentials screen, Entra's
/// own Test Connection, each with the cause and the fix when it failed.
pub fn test_connection(session: &Session, with_entra: bool) -> Element<'_, Message> {
    let facts = session.facts();
    let probe = facts.and_then(|f| f.probe.as_ref());
    let entra = facts.and_then(|f| f.test_connection.as_ref());
    if probe.is_none() && (!with_entra || entra.is_none()) {
        return column![].into();
    }
    let mut col = column![text("Test Connection").size(18)].spacing(10);
    if let Some(report) = probe {
        col = col.push(
            text("From this computer: the requests Entra's Test Connection makes")
                .size(13)
                .style(theme::muted),
        );
        col = col.extend(report.checks.iter().map(check_row));
    }
    if with_entra {
        col = col.push(
            text("From Entra: validateCredentials with the Tenant URL and Secret Token")
                .size(13)
                .style(theme::muted),
        );
        col = col.push(match entra {
            None => line(None, "Not run yet.".to_string(), None),
            Some(Ok(())) => line(
                Some(true),
                "Entra reached the SCIM endpoint and accepted the secret.".into(),
                None,
            ),
            Some(Err(e)) => line(Some(false), e.to_string(), None),
        });
        let ran = !matches!(
            session.checklist.status(StepId::TestConnection),
            Status::Pending
        );
        if ran {
            col = col.push(crate::ui::widget::focusable(
                button(text("Test again").size(14))
                    .padding([6, 14])
                    .style(button::secondary)
                    .on_press_maybe((!session.is_busy()).then_some(Message::Retest)),
            ));
        }
    }
    container(col)
        .padding(14)
        .width(Fill)
        .style(theme::card)
        .into()
}

fn check_row(check: &Check) -> Element<'_, Message> {
    let passed = match check.outcome {
        CheckOutcome::Pass { .. } => Some(true),
        CheckOutcome::Warn { .. } => None,
        CheckOutcome::Fail(_) => Some(false),
    };
    line(
        passed,
        format!("{}: {}", check.name, check.cause()),
        Some(check.fix()),
    )
}

/// One result line: a pass/fail badge, the text, and the fix underneath.
fn line<'a>(passed: Option<bool>, what: String, fix: Option<String>) -> Element<'a, Message> {
    let badge = match passed {
        Some(true) => text("PASS").size(12).style(theme::success_text),
        Some(false) => text("FAIL").size(12).style(theme::danger_text),
        None => text("WARN").size(12).style(theme::warning_text),
    };
    let mut body = column![text(what).size(14)].spacing(2).width(Fill);
    if let Some(fix) = fix.filter(|f| !f.is_empty()) {
        body = body.push(text(format!("Fix: {fix}")).size(13).style(theme::muted));
    }
    row![container(badge).width(Length::Fixed(44.0)), body]
        .spacing(8)
        .align_y(Alignment::Start)
        .into()
}

/// What a step did, once it finished (failures show in the error banner).
pub fn result<'a, M: 'a>(session: &'a Session, step: StepId) -> Element<'a, M> {
    match session.checklist.status(step) {
        status if status.is_complete() => widget::success_banner(status.detail()),
        _ => column![].into(),
    }
}
