//! The summary's "SCIM secrets" block: each secret's age and expiry and the
//! 30-day warning, read off the UI thread (`Op::SecretAges`) after the
//! backups list, and again on Refresh.

use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Fill};

use crate::engine::secret_list::{SecretAges, SecretOrigin, SecretStatus};
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::Op;

#[derive(Debug, Clone)]
pub enum Message {
    /// What the engine read (the error as the admin reads it).
    Read(Result<SecretAges, crate::engine::EngineError>),
    Refresh,
}

/// The last reading; `None` until the first one arrives.
#[derive(Debug, Default)]
pub struct SecretAgePanel {
    read: Option<Result<SecretAges, crate::engine::EngineError>>,
}

impl SecretAgePanel {
    pub fn update(&mut self, message: Message) -> Action {
        match message {
            Message::Read(read) => {
                self.read = Some(read);
                Action::None
            }
            Message::Refresh => Action::Run(Op::SecretAges),
        }
    }

    /// Nothing read yet for this engine.
    pub fn unread(&self) -> bool {
        self.read.is_none()
    }

    /// Forgets the reading (a new engine, another tenant).
    pub fn clear(&mut self) {
        self.read = None;
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        container(self.body(session))
            .padding(14)
            .width(Fill)
            .style(theme::card)
            .into()
    }

    fn body<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let idle = !session.is_busy();
        let mut col = column![
            row![
                text("SCIM secrets").size(17).width(Fill),
                widget::focusable(
                    button(text("Refresh").size(13))
                        .padding([4, 10])
                        .style(button::secondary)
                        .on_press_maybe(idle.then_some(Message::Refresh))
                ),
            ]
            .align_y(Alignment::Center),
        ]
        .spacing(8);
        let ages = match &self.read {
            None => {
                return col
                    .push(muted("Reading each secret's age and expiry…"))
                    .into();
            }
            Some(Err(e)) => {
                let line = format!("Not read: {}", widget::one_line(&e.to_string()));
                return col
                    .push(text(line).size(14).style(theme::danger_text))
                    .into();
            }
            Some(Ok(ages)) => ages,
        };
        col = col.push(muted(match ages.origin {
            SecretOrigin::Orchidea => {
                "Every SCIM secret Orchidea has that is not revoked, with its age and expiry."
            }
            SecretOrigin::RunState => {
                "The secret Entra holds, as the wizard saved it (Orchidea's admin API was not used)."
            }
        }));
        if ages.secrets.is_empty() {
            return col.push(text(ages.lines().join(" ")).size(14)).into();
        }
        for s in &ages.secrets {
            col = col.push(secret_row(s));
        }
        for w in ages.warnings() {
            col = col.push(widget::notice_banner(
                column![
                    text(w).size(14).style(theme::warning_text),
                    text(
                        "Rotate it: a new secret is created, saved and tested before the old \
                         one is revoked, so provisioning does not stop."
                    )
                    .size(13),
                ]
                .spacing(4),
            ));
        }
        col.into()
    }
}

fn muted(line: &str) -> Element<'_, Message> {
    text(line).size(13).style(theme::muted).into()
}

/// "scs_… (…Qk9a)   Held by Entra" over "created today; expires in 19 days (…)".
fn secret_row(s: &SecretStatus) -> Element<'_, Message> {
    let detail = s.describe();
    // `describe` starts with the name (and ", held by Entra"); shown apart here.
    let detail = detail.split_once(": ").map_or(detail.as_str(), |(_, d)| d);
    let badge = if s.held_by_entra {
        text("Held by Entra").size(13).style(theme::success_text)
    } else {
        text("Not used by Entra").size(13).style(theme::muted)
    };
    let detail = text(detail.to_string()).size(14);
    let detail = if s.age.warning.is_some() {
        detail.style(theme::warning_text)
    } else {
        detail
    };
    let body = column![
        row![text(s.name()).size(14), badge]
            .spacing(12)
            .align_y(Alignment::Center),
        detail,
    ]
    .spacing(2);
    container(body)
        .padding(10)
        .width(Fill)
        .style(theme::tinted)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_kept_until_cleared_and_refresh_reads_again() {
        let mut panel = SecretAgePanel::default();
        assert!(panel.unread());
        let ages = SecretAges {
            origin: SecretOrigin::RunState,
            secrets: Vec::new(),
        };
        assert!(matches!(
            panel.update(Message::Read(Ok(ages))),
            Action::None
        ));
        assert!(!panel.unread());
        assert!(matches!(
            panel.update(Message::Refresh),
            Action::Run(Op::SecretAges)
        ));
        panel.clear();
        assert!(panel.unread());
    }
}
