//! Steps 14–15: who gets provisioned, counted before anything is saved,
//! with the empty-mail warning and its Coalesce fix, a group to assign when
//! nobody is, and the notification e-mail and deletion threshold.

use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Fill};

use crate::engine::{EngineError, Notifications, Scope, parse_email, parse_threshold};
use crate::procedure::mapping::UserNameSource;
use crate::procedure::step::StepId;
use crate::services::graph::Group;
use crate::ui::panel;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::Op;

#[derive(Default)]
pub struct ScopeScreen {
    chosen: Option<Scope>,
    /// What the admin typed; `None` shows the engine's proposal.
    email: Option<String>,
    threshold: Option<String>,
    email_error: Option<String>,
    threshold_error: Option<String>,
    groups: Option<Result<Vec<Group>, EngineError>>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Selected(Scope),
    Email(String),
    Threshold(String),
    UserNameSource(UserNameSource),
    LoadGroups,
    Assign(usize),
    /// The directory's groups, to assign one when nobody is.
    GroupsLoaded(Result<Vec<Group>, EngineError>),
}

impl ScopeScreen {
    pub fn update(&mut self, message: Message, session: &mut Session) -> Action {
        match message {
            Message::GroupsLoaded(groups) => {
                self.groups = Some(groups);
                Action::None
            }
            Message::Selected(scope) => {
                let changed = self.scope(session) != scope;
                self.chosen = Some(scope);
                if changed && session.engine.is_some() {
                    // Count again: nothing is written until Save.
                    return Action::Run(Op::CountScope(scope));
                }
                Action::None
            }
            Message::Email(t) => {
                self.email_error = parse_email(&t).err().map(|e| e.to_string());
                self.email = Some(t);
                Action::None
            }
            Message::Threshold(t) => {
                self.threshold_error = parse_threshold(&t).err().map(|e| e.to_string());
                self.threshold = Some(t);
                Action::None
            }
            Message::UserNameSource(source) => Action::Run(Op::UserNameSource(source)),
            Message::LoadGroups => Action::Run(Op::ListGroups),
            Message::Assign(i) => match &self.groups {
                Some(Ok(groups)) => match groups.get(i) {
                    Some(g) => Action::Run(Op::AssignGroup {
                        id: g.id.clone(),
                        name: g.display_name.clone().unwrap_or_else(|| g.id.clone()),
                    }),
                    None => Action::None,
                },
                _ => Action::None,
            },
        }
    }

    pub fn primary_label(&self, _: &Session) -> &'static str {
        "Save scope"
    }

    /// Complete, and the choice not changed since it was saved.
    pub fn is_complete(&self, session: &Session) -> bool {
        session.complete(&[StepId::ChooseScope, StepId::SaveSettings]) && !self.changed(session)
    }

    /// Counting changes nothing, so it runs as soon as the screen opens.
    pub fn on_enter(&self, session: &Session) -> Action {
        let counted = session.facts().is_some_and(|f| f.audience.is_some());
        if session.engine.is_some()
            && !counted
            && !session.is_busy()
            && session.complete(&[StepId::SaveCredentials])
        {
            Action::Run(Op::CountScope(self.scope(session)))
        } else {
            Action::None
        }
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

    fn proposed(session: &Session) -> Option<&Notifications> {
        session.facts().and_then(|f| f.notifications.as_ref())
    }

    fn email_text<'a>(&'a self, session: &'a Session) -> &'a str {
        match &self.email {
            Some(t) => t,
            None => Self::proposed(session)
                .and_then(|n| n.email.as_deref())
                .unwrap_or(""),
        }
    }

    fn threshold_text(&self, session: &Session) -> String {
        match &self.threshold {
            Some(t) => t.clone(),
            None => Self::proposed(session)
                .and_then(|n| n.delete_threshold)
                .map(|n| n.to_string())
                .unwrap_or_default(),
        }
    }

    pub fn primary(&self, session: &Session) -> Action {
        let edited = self.email.is_some() || self.threshold.is_some();
        let notifications = if edited {
            let email = match parse_email(self.email_text(session)) {
                Ok(e) => e,
                Err(message) => return Action::Fail(message.to_string()),
            };
            let delete_threshold = match parse_threshold(&self.threshold_text(session)) {
                Ok(t) => t,
                Err(message) => return Action::Fail(message.to_string()),
            };
            Some(Notifications {
                email,
                delete_threshold,
            })
        } else {
            None
        };
        Action::Run(Op::SetScope(self.scope(session), notifications))
    }

    /// The choice changed after it was saved: Save again instead of Next.
    pub fn changed(&self, session: &Session) -> bool {
        let scope = self
            .chosen
            .is_some_and(|c| session.snapshot.as_ref().is_some_and(|s| s.scope != c));
        let notes = (self.email.is_some() || self.threshold.is_some())
            && Self::proposed(session).is_some_and(|n| {
                parse_email(self.email_text(session)).ok().flatten() != n.email
                    || parse_threshold(&self.threshold_text(session))
                        .ok()
                        .flatten()
                        != n.delete_threshold
            });
        scope || notes
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let scope = self.scope(session);
        let mut page = column![
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
        ]
        .spacing(12)
        .width(Fill);
        page = page.push(self.audience(session));
        page = page.push(self.notifications(session));
        page.push(panel::result(session, StepId::SaveSettings))
            .into()
    }

    /// Who the scope reaches, and what to do about those it would miss.
    fn audience<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let facts = session.facts();
        let Some(audience) = facts.and_then(|f| f.audience.as_ref()) else {
            return text("Counting who this scope reaches…")
                .size(14)
                .style(theme::muted)
                .into();
        };
        let idle = !session.is_busy() || session.paused_at_scope();
        let coalesce = facts
            .is_some_and(|f| f.mapping_options.user_name_source == UserNameSource::CoalesceMailUpn);
        let mut col = column![
            text(format!(
                "{} users in scope; {} of them without mail.",
                audience.in_scope,
                audience.without_mail.len()
            ))
            .size(15)
        ]
        .spacing(8);
        if audience.in_scope == 0 && audience.scope == Scope::Assigned {
            let mut box_ =
                column![text(
                "Nobody is assigned to the app: with \"Only assigned users and groups\" Entra \
                 provisions no one. Assign a group now, or choose all users."
            )
            .size(14)]
                .spacing(6);
            match &self.groups {
                None => {
                    box_ = box_.push(crate::ui::widget::focusable(
                        button(text("Show groups to assign").size(14))
                            .padding([6, 14])
                            .on_press_maybe(idle.then_some(Message::LoadGroups)),
                    ));
                }
                Some(Err(e)) => {
                    box_ = box_.push(text(e.to_string()).size(13).style(theme::danger_text));
                }
                Some(Ok(groups)) if groups.is_empty() => {
                    box_ = box_.push(text("The directory has no groups.").size(13));
                }
                Some(Ok(groups)) => {
                    for (i, g) in groups.iter().enumerate().take(10) {
                        box_ = box_.push(
                            row![
                                text(g.display_name.as_deref().unwrap_or(&g.id))
                                    .size(14)
                                    .width(Fill),
                                crate::ui::widget::focusable(
                                    button(text("Assign").size(13))
                                        .padding([4, 10])
                                        .on_press_maybe(idle.then_some(Message::Assign(i)))
                                ),
                            ]
                            .spacing(8)
                            .align_y(Alignment::Center),
                        );
                    }
                }
            }
            col = col.push(widget::notice_banner(box_));
        }
        if !audience.without_mail.is_empty() {
            let names = widget::clip(&audience.without_mail.join(", "), 240);
            let body: Element<'a, Message> = if coalesce {
                column![
                    text(format!(
                        "userName uses Coalesce([mail],[userPrincipalName]): {names} will be \
                         provisioned with their user principal name. This deviates from \
                         Orchidea's specification (userName from mail)."
                    ))
                    .size(14),
                    crate::ui::widget::focusable(
                        button(text("Use mail only (Orchidea's specification)").size(13))
                            .padding([4, 10])
                            .style(button::secondary)
                            .on_press_maybe(
                                idle.then_some(Message::UserNameSource(UserNameSource::Mail))
                            )
                    ),
                ]
                .spacing(6)
                .into()
            } else {
                column![
                    text(format!(
                        "{} of {} users have no mail and will be skipped (userName comes from \
                         mail): {names}.",
                        audience.without_mail.len(),
                        audience.in_scope
                    ))
                    .size(14),
                    text(
                        "Give them a mail in Entra, or use their user principal name when \
                         they have none. That is a deviation from Orchidea's specification; \
                         the mapping is written again."
                    )
                    .size(13)
                    .style(theme::muted),
                    crate::ui::widget::focusable(
                        button(
                            text("Use Coalesce([mail],[userPrincipalName]) for userName").size(13)
                        )
                        .padding([4, 10])
                        .on_press_maybe(
                            idle.then_some(Message::UserNameSource(
                                UserNameSource::CoalesceMailUpn
                            ))
                        )
                    ),
                ]
                .spacing(6)
                .into()
            };
            col = col.push(widget::notice_banner(body));
        }
        container(col).width(Fill).into()
    }

    fn notifications<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let threshold = self.threshold_text(session);
        column![
            text("Notifications").size(17),
            row![
                widget::field(
                    "Failure and quarantine e-mails to",
                    "admin@contoso.com (empty: no e-mails)",
                    self.email_text(session),
                    Message::Email,
                    false,
                    self.email_error.as_deref(),
                ),
                widget::field(
                    "Stop before deleting more than",
                    "500 (empty: no threshold)",
                    &threshold,
                    Message::Threshold,
                    false,
                    self.threshold_error.as_deref(),
                ),
            ]
            .spacing(16),
        ]
        .spacing(8)
        .into()
    }
}
