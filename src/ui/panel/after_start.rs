//! After Start, on the start and summary screens: the job's live status
//! (with the quarantine and its recovery), provisioning one user on demand,
//! the provisioning logs, and the report export.

use std::path::PathBuf;

use iced::widget::{button, column, container, progress_bar, row, text, text_input};
use iced::{Alignment, Element, Fill, Length};

use crate::engine::{EngineError, JobView, filter_events, stage_sentence};
use crate::platform::timefmt::readable;
use crate::services::graph::{DirectoryUser, Outcome, ProvisioningEvent};
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::Op;

#[derive(Default)]
pub struct AfterStart {
    query: String,
    found: Option<Result<Vec<DirectoryUser>, EngineError>>,
    filter: Option<Outcome>,
    filter_text: String,
    pub(crate) exported: Option<Result<Vec<PathBuf>, crate::ui::work::ExportError>>,
    /// The admin asked to allow the held deletions: the list is shown
    /// with a last "are you sure".
    confirm_deletions: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    Query(String),
    Search,
    Provision(usize),
    Filter(Option<Outcome>),
    FilterText(String),
    Restart,
    /// Read the held deletions and show them.
    ReviewDeletions,
    /// Ask to confirm allowing the deletions shown.
    AskAllowDeletions,
    /// Confirmed: allow exactly these (users' ids as shown).
    AllowDeletions(Vec<String>),
    CancelDeletions,
    RefreshLogs,
    Export,
    /// Who the search found.
    UsersFound(Result<Vec<DirectoryUser>, EngineError>),
    /// The report files written.
    Exported(Result<Vec<PathBuf>, crate::ui::work::ExportError>),
}

/// Log lines shown at once; the filter narrows the newest page.
const SHOWN: usize = 30;

impl AfterStart {
    pub fn update(&mut self, message: Message, report_dir: &std::path::Path) -> Action {
        match message {
            Message::Query(q) => {
                self.query = q;
                Action::None
            }
            Message::Search => {
                if self.query.trim().is_empty() {
                    return Action::Fail(
                        "Type the start of a name, mail or user principal name to search.".into(),
                    );
                }
                Action::Run(Op::FindUsers(self.query.trim().to_string()))
            }
            Message::Provision(i) => match &self.found {
                Some(Ok(users)) => match users.get(i) {
                    Some(u) => Action::Run(Op::ProvisionUser(u.clone())),
                    None => Action::None,
                },
                _ => Action::None,
            },
            Message::Filter(f) => {
                self.filter = f;
                Action::None
            }
            Message::FilterText(t) => {
                self.filter_text = t;
                Action::None
            }
            Message::Restart => {
                self.confirm_deletions = false;
                Action::Run(Op::RestartJob)
            }
            Message::ReviewDeletions => {
                self.confirm_deletions = false;
                Action::Run(Op::ReviewDeletions)
            }
            Message::AskAllowDeletions => {
                self.confirm_deletions = true;
                Action::None
            }
            Message::CancelDeletions => {
                self.confirm_deletions = false;
                Action::None
            }
            Message::AllowDeletions(reviewed) => {
                self.confirm_deletions = false;
                Action::Run(Op::AllowDeletions(reviewed))
            }
            Message::RefreshLogs => Action::Run(Op::RefreshLogs),
            Message::Export => Action::Run(Op::ExportReport(report_dir.to_path_buf())),
            Message::UsersFound(users) => {
                self.found = Some(users);
                Action::None
            }
            Message::Exported(result) => {
                self.exported = Some(result);
                Action::None
            }
        }
    }

    /// Live status, quarantine and its recovery.
    pub fn status<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let Some(view) = session.job_view.as_ref() else {
            let note = match &session.monitor_error {
                Some(e) => format!("Could not read the job: {e}"),
                None => "Reading the job's status…".into(),
            };
            return card(column![title("Live status"), text(note).size(14)].spacing(8));
        };
        let mut col = column![
            row![
                title("Live status"),
                text(format!("Job status: {}", view.code))
                    .size(14)
                    .style(code_style(view)),
            ]
            .spacing(16)
            .align_y(Alignment::Center),
            text(&view.headline).size(14),
        ]
        .spacing(8);
        if let Some((done, total)) = view.progress {
            let total = total.max(done).max(1);
            // A bar's length: precision beyond f32 does not show.
            #[allow(clippy::cast_precision_loss)]
            let (whole, part) = (total as f32, done as f32);
            col = col.push(
                row![
                    progress_bar(0.0..=whole, part).length(Length::Fixed(240.0)),
                    text(format!("Initial cycle: {done} of {total} users processed")).size(13),
                ]
                .spacing(12)
                .align_y(Alignment::Center),
            );
        }
        if !view.counts.is_empty() {
            let counts: Vec<String> = view
                .counts
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            col = col.push(text(format!("In Orchidea now: {}", counts.join(", "))).size(14));
        }
        if let Some(e) = &view.last_execution {
            col = col.push(
                text(format!(
                    "Last cycle: {} — {} exported, {} errors{}",
                    e.state,
                    e.exported,
                    e.escrowed,
                    e.ended
                        .as_deref()
                        .map(|t| format!(", ended {t}"))
                        .unwrap_or_default()
                ))
                .size(14),
            );
            if let Some(err) = &e.error {
                col = col.push(
                    text(format!("Error: {err}"))
                        .size(13)
                        .style(theme::danger_text),
                );
            }
        }
        if let Some(q) = &view.quarantine {
            let mut lines = column![
                text(format!(
                    "In quarantine ({}){}",
                    q.reason,
                    q.since
                        .as_deref()
                        .map(|s| format!(" since {s}"))
                        .unwrap_or_default()
                ))
                .size(15),
                text(
                    q.error_message
                        .clone()
                        .unwrap_or_else(|| "Entra gave no error message.".into())
                )
                .size(14),
                text(format!("Fix: {}", q.fix)).size(13),
            ]
            .spacing(4);
            if let Some(next) = &q.next_attempt {
                lines =
                    lines.push(text(format!("Entra tries again at {}.", readable(next))).size(13));
            }
            let idle = !session.is_busy();
            let restart = crate::ui::widget::focusable(
                button(text("Restart provisioning").size(14))
                    .padding([6, 14])
                    .style(button::secondary)
                    .on_press_maybe(idle.then_some(Message::Restart)),
            );
            let mut buttons = column![restart].spacing(6);
            if q.too_many_deletes {
                buttons = buttons.push(crate::ui::widget::focusable(
                    button(text("Review pending deletions").size(14))
                        .padding([6, 14])
                        .style(button::secondary)
                        .on_press_maybe(idle.then_some(Message::ReviewDeletions)),
                ));
            }
            col = col.push(
                container(
                    row![lines.width(Fill), buttons]
                        .spacing(12)
                        .align_y(Alignment::Center),
                )
                .padding(12)
                .width(Fill)
                .style(theme::error_banner),
            );
            if q.too_many_deletes
                && let Some(pending) = session.facts().and_then(|f| f.pending_deletions.as_ref())
            {
                col = col.push(self.pending_deletions(pending, idle));
            }
        }
        card(col)
    }

    /// The held deletions, and the separate, confirmed way to allow them.
    fn pending_deletions<'a>(
        &'a self,
        pending: &'a [ProvisioningEvent],
        idle: bool,
    ) -> Element<'a, Message> {
        if pending.is_empty() {
            return text("Entra lists no held deletions for the last cycle.")
                .size(13)
                .style(theme::muted)
                .into();
        }
        let n = pending.len();
        let mut list = column![
            text(format!(
                "{n} users would be disabled or deleted in Orchidea (held back by the accidental-deletion threshold):"
            ))
            .size(14)
        ]
        .spacing(2);
        for e in pending.iter().take(SHOWN) {
            list = list.push(text(format!("• {}", e.subject())).size(13));
        }
        if n > SHOWN {
            list = list.push(
                text(format!(
                    "…and {} more (see the provisioning logs).",
                    n - SHOWN
                ))
                .size(13)
                .style(theme::muted),
            );
        }
        let reviewed: Vec<String> = pending.iter().map(|e| e.subject_id().to_string()).collect();
        let actions = if self.confirm_deletions {
            row![
                text(format!("Disable or delete these {n} users in Orchidea?")).size(14),
                crate::ui::widget::focusable(
                    button(text(format!("Yes, allow {n} deletions")).size(14))
                        .padding([6, 14])
                        .style(button::danger)
                        .on_press_maybe(idle.then_some(Message::AllowDeletions(reviewed)))
                ),
                crate::ui::widget::focusable(
                    button(text("Cancel").size(14))
                        .padding([6, 14])
                        .style(button::secondary)
                        .on_press(Message::CancelDeletions)
                ),
            ]
        } else {
            row![crate::ui::widget::focusable(
                button(text(format!("Allow these {n} deletions…")).size(14))
                    .padding([6, 14])
                    .style(button::danger)
                    .on_press_maybe(idle.then_some(Message::AskAllowDeletions))
            ),]
        };
        container(column![list, actions.spacing(10).align_y(Alignment::Center)].spacing(8))
            .padding(10)
            .width(Fill)
            .style(theme::tinted)
            .into()
    }

    /// Search a user and provision just that one now.
    pub fn on_demand<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let idle = !session.is_busy();
        let search = row![
            text_input("Name, mail or user principal name", &self.query)
                .on_input(Message::Query)
                .on_submit(Message::Search)
                .padding(8)
                .size(14),
            crate::ui::widget::focusable(
                button(text("Search").size(14))
                    .padding([8, 14])
                    .style(button::secondary)
                    .on_press_maybe(idle.then_some(Message::Search))
            ),
        ]
        .spacing(8)
        .align_y(Alignment::Center);
        let mut col = column![
            title("Provision one user now"),
            text(
                "Entra provisions this user immediately instead of waiting for the next cycle, \
                 and reports each stage. Only users in scope are provisioned."
            )
            .size(13)
            .style(theme::muted),
            search,
        ]
        .spacing(8);
        match &self.found {
            Some(Err(e)) => col = col.push(text(e.to_string()).size(13).style(theme::danger_text)),
            Some(Ok(users)) if users.is_empty() => {
                col = col.push(text("No user matches.").size(13).style(theme::muted));
            }
            Some(Ok(users)) => {
                for (i, u) in users.iter().enumerate().take(8) {
                    let label = format!(
                        "{} <{}>{}",
                        u.display_name.as_deref().unwrap_or("(no name)"),
                        u.user_principal_name.as_deref().unwrap_or("?"),
                        if u.has_mail() { "" } else { " — no mail" }
                    );
                    col = col.push(
                        row![
                            text(label).size(14).width(Fill),
                            crate::ui::widget::focusable(
                                button(text("Provision now").size(13))
                                    .padding([4, 10])
                                    .on_press_maybe(idle.then_some(Message::Provision(i)))
                            ),
                        ]
                        .spacing(8)
                        .align_y(Alignment::Center),
                    );
                }
            }
            None => {}
        }
        if let Some(last) = session.facts().and_then(|f| f.on_demand.last()) {
            let r = &last.result;
            let mut stages = column![
                text(format!("{}: {}", last.user, r.result))
                    .size(15)
                    .style(result_style(&r.result)),
            ]
            .spacing(4);
            for step in &r.steps {
                stages = stages.push(
                    row![
                        container(badge(&step.status)).width(Length::Fixed(44.0)),
                        text(stage_sentence(step)).size(13).width(Fill),
                    ]
                    .spacing(8),
                );
            }
            if let Some(message) = &r.error_message {
                stages = stages.push(text(message).size(13).style(theme::muted));
            }
            col = col.push(
                container(stages)
                    .padding(10)
                    .width(Fill)
                    .style(theme::tinted),
            );
        }
        card(col)
    }

    /// The newest provisioning events, filterable.
    pub fn logs<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let chip = |label: &'a str, value: Option<Outcome>| {
            crate::ui::widget::focusable(
                button(text(label).size(13))
                    .padding([4, 10])
                    .style(if self.filter == value {
                        button::primary
                    } else {
                        button::secondary
                    })
                    .on_press(Message::Filter(value)),
            )
        };
        let filters = row![
            chip("All", None),
            chip("Success", Some(Outcome::Success)),
            chip("Skipped", Some(Outcome::Skipped)),
            chip("Failure", Some(Outcome::Failure)),
            text_input("Filter by name or reason", &self.filter_text)
                .on_input(Message::FilterText)
                .padding(6)
                .size(13)
                .width(Length::Fixed(220.0)),
            crate::ui::widget::focusable(
                button(text("Refresh").size(13))
                    .padding([4, 10])
                    .style(button::secondary)
                    .on_press_maybe((!session.is_busy()).then_some(Message::RefreshLogs))
            ),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        let shown = filter_events(&session.events, self.filter, &self.filter_text);
        let mut list = column![].spacing(4);
        if session.events.is_empty() {
            list = list.push(
                text("No provisioning events yet: they appear after the first cycle.")
                    .size(13)
                    .style(theme::muted),
            );
        } else if shown.is_empty() {
            list = list.push(
                text("No event matches the filter.")
                    .size(13)
                    .style(theme::muted),
            );
        }
        for e in shown.iter().take(SHOWN) {
            list = list.push(event_row(e));
        }
        card(
            column![
                title(format!(
                    "Provisioning logs ({} of the newest {})",
                    shown.len(),
                    session.events.len()
                )),
                filters,
                list
            ]
            .spacing(8),
        )
    }

    /// Export buttons and where the files went.
    pub fn export<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let mut col = column![
            row![
                title("Report for your change ticket"),
                crate::ui::widget::focusable(
                    button(text("Export report (Markdown + JSON)").size(14))
                        .padding([6, 14])
                        .on_press_maybe((!session.is_busy()).then_some(Message::Export))
                ),
            ]
            .spacing(16)
            .align_y(Alignment::Center),
            text(
                "What was found, what changed, the mappings before and after, Test Connection \
                 and the first provisioning results. Secrets are never written."
            )
            .size(13)
            .style(theme::muted),
        ]
        .spacing(8);
        match &self.exported {
            Some(Ok(paths)) => {
                for p in paths {
                    col = col.push(text(format!("Saved {}", p.display())).size(13));
                }
            }
            Some(Err(e)) => col = col.push(text(e.to_string()).size(13).style(theme::danger_text)),
            None => {}
        }
        card(col)
    }
}

fn event_row(e: &ProvisioningEvent) -> Element<'_, Message> {
    let when = e
        .activity_date_time
        .as_deref()
        .map(readable)
        .unwrap_or_default();
    let meta = format!(
        "{}  ·  {when}",
        e.provisioning_action.as_deref().unwrap_or("other")
    );
    let mut body = column![
        row![
            text(e.subject()).size(14),
            text(meta).size(13).style(theme::muted)
        ]
        .spacing(12)
    ]
    .spacing(2)
    .width(Fill);
    if let Some(reason) = e.reason() {
        body = body.push(
            text(widget::clip(&reason, 220))
                .size(13)
                .style(theme::muted),
        );
    }
    row![
        container(badge(e.outcome().label())).width(Length::Fixed(44.0)),
        body
    ]
    .spacing(8)
    .into()
}

fn badge(status: &str) -> Element<'static, Message> {
    let s = status.to_ascii_lowercase();
    let (label, style): (&str, fn(&iced::Theme) -> text::Style) = match s.as_str() {
        "success" => ("OK", theme::success_text),
        "skipped" => ("SKIP", theme::warning_text),
        "failure" => ("FAIL", theme::danger_text),
        "warning" => ("WARN", theme::warning_text),
        _ => ("—", theme::muted),
    };
    text(label).size(12).style(style).into()
}

fn result_style(result: &str) -> fn(&iced::Theme) -> text::Style {
    match result.to_ascii_lowercase().as_str() {
        "success" => theme::success_text,
        "failure" => theme::danger_text,
        _ => theme::warning_text,
    }
}

fn code_style(view: &JobView) -> fn(&iced::Theme) -> text::Style {
    match view.code.as_str() {
        _ if view.is_quarantined() => theme::danger_text,
        "Active" => theme::success_text,
        _ => theme::warning_text,
    }
}

fn title<'a>(t: impl text::IntoFragment<'a>) -> iced::widget::Text<'a> {
    text(t).size(17)
}

fn card<'a>(content: impl Into<Element<'a, Message>>) -> Element<'a, Message> {
    container(content)
        .padding(14)
        .width(Fill)
        .style(theme::card)
        .into()
}
