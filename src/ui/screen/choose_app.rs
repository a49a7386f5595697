//! Step 2: which enterprise application is Orchidea's. Apps that cannot
//! provision stay visible, greyed, with the reason. When none can, the
//! wizard offers to create one from the non-gallery template.

use iced::widget::{button, column, text};
use iced::{Element, Fill};

use crate::engine::{AppCandidate, Capability, EngineError};
use crate::procedure::step::StepId;
use crate::ui::app;
use crate::ui::panel;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::Op;

pub const NO_APP_SELECTED: &str = "No application selected. Click the Orchidea enterprise application in the list, then continue.";

/// The control that creates the app when none can provision.
pub const CREATE_IT: &str = "Create it in Entra";

/// The control that creates a new app although the one the wizard created
/// earlier is not shown by Entra yet.
pub const CREATE_ANOTHER: &str = "Create another app anyway";

#[derive(Default)]
pub struct ChooseApp {
    selected: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Selected(String),
    /// Create the app from the non-gallery template (step 2 with `--create-app`).
    Create,
    /// As `Create`, not waiting for the app created earlier (`--create-app-again`).
    CreateAnother,
}

impl ChooseApp {
    /// Selecting an app that cannot provision explains why instead.
    pub fn update(&mut self, message: Message, session: &mut Session) -> Action {
        let id = match message {
            Message::Selected(id) => id,
            Message::Create => {
                self.selected = None;
                return Action::Run(Op::CreateApp);
            }
            Message::CreateAnother => {
                self.selected = None;
                return Action::Run(Op::CreateAppAgain);
            }
        };
        let Some(candidate) = candidates(session)
            .iter()
            .find(|c| c.service_principal.id == id)
        else {
            return Action::None;
        };
        if candidate.capability.can_provision() {
            self.selected = Some(id);
            Action::None
        } else {
            self.selected = None;
            Action::Fail(
                EngineError::AppCannotProvision {
                    name: candidate.name().to_string(),
                    reason: candidate.capability.reason().to_string(),
                }
                .to_string(),
            )
        }
    }

    /// Up/Down cycles through the apps that can provision.
    pub fn arrow(&mut self, session: &Session) {
        let capable: Vec<&str> = candidates(session)
            .iter()
            .filter(|c| c.capability.can_provision())
            .map(|c| c.service_principal.id.as_str())
            .collect();
        let at = capable
            .iter()
            .position(|id| Some(*id) == self.selected.as_deref())
            .map_or(0, |i| (i + 1) % capable.len().max(1));
        self.selected = capable.get(at).map(|id| (*id).to_string());
    }

    pub fn primary_label(&self, _: &Session) -> &'static str {
        "Use this app"
    }

    /// The list with step 2's outcome under it.
    pub fn page<'a>(&'a self, session: &'a Session) -> Element<'a, app::Message> {
        column![
            self.view(session).map(app::Message::ChooseApp),
            panel::result(session, StepId::OpenEnterpriseApp),
        ]
        .spacing(16)
        .into()
    }

    pub fn primary(&self, session: &Session) -> Action {
        match self.selection(session) {
            Some(id) => Action::Run(Op::ChooseApp(id.to_string())),
            None => Action::Fail(NO_APP_SELECTED.into()),
        }
    }

    /// The app clicked, else the app this run just created.
    fn selection<'a>(&'a self, session: &'a Session) -> Option<&'a str> {
        self.selected.as_deref().or_else(|| {
            let app = session.facts()?.created_app.as_ref()?;
            candidates(session)
                .iter()
                .any(|c| &c.service_principal.id == app && c.capability.can_provision())
                .then_some(app.as_str())
        })
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let list = candidates(session);
        let intro = text(
            "These enterprise applications match \"Orchidea\". Pick the one your users \
             sign in to Orchidea with. Apps that cannot provision users are greyed out.",
        )
        .size(15);
        let body: Element<'a, Message> = if list.is_empty() {
            text(
                "No enterprise application was found yet. Finish step 1 first; if this \
                 stays empty, let the wizard create the app, or create it yourself in Entra \
                 (Enterprise applications → New application).",
            )
            .size(14)
            .style(theme::muted)
            .into()
        } else {
            let selected = self.selection(session);
            column(list.iter().map(|c| entry(c, selected)))
                .spacing(8)
                .into()
        };
        let mut page = column![intro, body].spacing(16).width(Fill);
        if session.facts().is_some() && !list.iter().any(|c| c.capability.can_provision()) {
            page = page.push(
                column![
                    text(
                        "None of these can provision. The wizard can create the app from \
                         Microsoft's non-gallery application template; Entra then takes a few \
                         seconds to show it everywhere, and the wizard waits for that.",
                    )
                    .size(14),
                    crate::ui::widget::focusable(button(text(CREATE_IT)).on_press(Message::Create)),
                ]
                .spacing(8),
            );
            if let Some(earlier) = session.facts().and_then(|f| f.created_earlier.as_ref()) {
                page = page.push(
                    column![
                        text(format!(
                            "The wizard created {} at {}, and Entra does not list it yet \
                             (new apps can take minutes to appear everywhere). \"{CREATE_IT}\" \
                             waits for that app and never makes a second one. If it was \
                             deleted, or you want a second app:",
                            earlier.describe(),
                            crate::platform::timefmt::readable(&earlier.at)
                        ))
                        .size(14),
                        crate::ui::widget::focusable(
                            button(text(CREATE_ANOTHER)).on_press(Message::CreateAnother)
                        ),
                    ]
                    .spacing(8),
                );
            }
        }
        page.into()
    }
}

fn entry<'a>(c: &'a AppCandidate, selected: Option<&str>) -> Element<'a, Message> {
    let id = &c.service_principal.id;
    let description = match &c.capability {
        Capability::Scim {
            template_id,
            has_job,
        } => {
            let job = if *has_job {
                "; provisioning is already set up"
            } else {
                ""
            };
            format!("Can provision over SCIM (template \"{template_id}\"){job}. Id {id}")
        }
        other => format!("Cannot provision: {}", other.reason()),
    };
    widget::choice(
        c.name(),
        description,
        selected == Some(id.as_str()),
        c.capability.can_provision(),
        Message::Selected(id.clone()),
    )
}

fn candidates(session: &Session) -> &[AppCandidate] {
    session.facts().map_or(&[], |f| f.candidates.as_slice())
}
