//! Steps 1a–1c: the SCIM secret, made through Orchidea's admin API (with
//! the IDP for new users) or created by hand in Orchidea and pasted here.

use iced::widget::{column, text};
use iced::{Element, Fill};

use crate::platform::secret::Secret;
use crate::procedure::step::StepId;
use crate::services::orchidea::{self, Idp, ManualScim};
use crate::ui::app;
use crate::ui::panel;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::{Op, Target};

pub const STEPS: [StepId; 3] = [
    StepId::CreateSecret,
    StepId::ChooseIdp,
    StepId::CopyUrlAndSecret,
];

/// Screen 1 opened before the sandbox or a tenant was chosen.
pub const NO_TARGET: &str = "Choose the sandbox or your tenant on the first screen.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    AdminApi,
    Manual,
}

pub struct OrchideaSecret {
    path: Path,
    idp: Option<String>,
    scim_url: String,
    secret: Secret,
    reveal: bool,
    url_error: Option<String>,
    secret_error: Option<String>,
    /// Inputs changed since the last successful run of 1a–1c.
    pub dirty: bool,
}

#[derive(Debug, Clone)]
pub enum Message {
    PathSelected(Path),
    IdpSelected(String),
    ScimUrlChanged(String),
    SecretChanged(Secret),
    ToggleReveal,
    ReloadIdps,
    /// The workspace's IDPs, read through Orchidea's admin API.
    IdpsLoaded(Result<Vec<Idp>, crate::ui::work::IdpsError>),
    /// 1a–1c ran with what is typed now.
    Connected,
}

/// What 1a–1c run with.
#[derive(Debug, Clone)]
pub struct Connect {
    pub manual: Option<ManualScim>,
    pub idp: Option<String>,
}

impl Default for OrchideaSecret {
    fn default() -> Self {
        Self {
            path: Path::AdminApi,
            idp: None,
            scim_url: String::new(),
            secret: Secret::new(""),
            reveal: false,
            url_error: None,
            secret_error: None,
            dirty: false,
        }
    }
}

impl OrchideaSecret {
    pub fn update(&mut self, message: Message, session: &mut Session) -> Action {
        match message {
            Message::IdpsLoaded(idps) => {
                if let Ok(idps) = &idps {
                    self.idps_loaded(idps);
                }
                session.idps = Some(idps);
                return Action::None;
            }
            Message::Connected => {
                self.dirty = false;
                return Action::None;
            }
            Message::PathSelected(p) => self.path = p,
            Message::IdpSelected(id) => self.idp = Some(id),
            Message::ScimUrlChanged(v) => {
                self.scim_url = v;
                self.url_error = None;
            }
            Message::SecretChanged(v) => {
                self.secret = v;
                self.secret_error = None;
            }
            Message::ToggleReveal => {
                self.reveal = !self.reveal;
                return Action::None;
            }
            Message::ReloadIdps => return Action::Run(Op::ListIdps),
        }
        self.dirty = true;
        Action::None
    }

    /// The path actually available: no admin API means the manual path.
    pub fn path(&self, session: &Session) -> Path {
        if session.target.as_ref().is_some_and(Target::has_admin) {
            self.path
        } else {
            Path::Manual
        }
    }

    pub fn arrow(&mut self, session: &Session) {
        if self.path(session) == Path::Manual {
            return;
        }
        let Some(Ok(idps)) = &session.idps else {
            return;
        };
        let at = idps
            .iter()
            .position(|i| Some(&i.id) == self.idp.as_ref())
            .map_or(0, |i| (i + 1) % idps.len().max(1));
        if let Some(idp) = idps.get(at) {
            self.idp = Some(idp.id.clone());
        }
    }

    /// The IDPs are read once per target, when the admin API is there.
    pub fn on_enter(&self, session: &Session) -> Action {
        if session.idps.is_none() && session.target.as_ref().is_some_and(Target::has_admin) {
            Action::Run(Op::ListIdps)
        } else {
            Action::None
        }
    }

    /// Complete, and nothing typed since 1a–1c ran.
    pub fn is_complete(&self, session: &Session) -> bool {
        session.complete(&STEPS) && !self.dirty
    }

    /// 1a–1c with the chosen path (the root builds the engine for it).
    pub fn primary(&mut self, session: &Session) -> Action {
        if session.target.is_none() {
            return Action::Fail(NO_TARGET.into());
        }
        self.connect(session).map_or(Action::None, Action::Connect)
    }

    /// The screen with the outcome of 1a, the URL and secret to copy once
    /// the pre-flight accepted them, and the pre-flight checks.
    pub fn page<'a>(&'a self, session: &'a Session) -> Element<'a, app::Message> {
        column![
            self.view(session).map(app::Message::Secret),
            panel::result(session, StepId::CreateSecret),
            session
                .checklist
                .status(StepId::CopyUrlAndSecret)
                .is_complete()
                .then(|| panel::scim_block(session)),
            panel::test_connection(session, false),
        ]
        .spacing(16)
        .into()
    }

    /// Pre-selects the IDP Orchidea would pick by default.
    fn idps_loaded(&mut self, idps: &[Idp]) {
        if self.idp.is_none() {
            self.idp = orchidea::pick_idp(idps, None).ok().map(|i| i.id.clone());
        }
    }

    pub fn primary_label(&self, session: &Session) -> &'static str {
        match self.path(session) {
            Path::AdminApi => "Create SCIM secret",
            Path::Manual => "Verify secret",
        }
    }

    /// Validates the manual fields (messages appear under them).
    pub fn connect(&mut self, session: &Session) -> Option<Connect> {
        match self.path(session) {
            Path::AdminApi => Some(Connect {
                manual: None,
                idp: self.idp.clone(),
            }),
            Path::Manual => {
                // Loopback SCIM URLs only make sense when Entra is the sandbox.
                let sandbox = match &session.target {
                    Some(crate::ui::work::Target::Sandbox(_)) | None => true,
                    Some(crate::ui::work::Target::Tenant(t)) => {
                        crate::platform::http::is_loopback(&t.graph_url)
                    }
                };
                let url = orchidea::parse_scim_url_for(&self.scim_url, sandbox);
                let secret = orchidea::parse_secret(self.secret.expose());
                self.url_error = url.as_ref().err().map(ToString::to_string);
                self.secret_error = secret.as_ref().err().map(ToString::to_string);
                Some(Connect {
                    manual: Some(ManualScim {
                        scim_url: url.ok()?,
                        secret: secret.ok()?,
                    }),
                    idp: None,
                })
            }
        }
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let admin_available = session.target.as_ref().is_some_and(Target::has_admin);
        let path = self.path(session);
        let mut page = column![
            text(
                "Orchidea authenticates Entra with a SCIM secret. The wizard can create it \
                 through Orchidea's admin API, or you create it in Orchidea \
                 (workspace admin → User management → SCIM) and paste it here."
            )
            .size(15),
            widget::choice(
                "Create it for me",
                if admin_available {
                    "Uses Orchidea's admin API; you choose the IDP for new users."
                } else {
                    "Not available: no Orchidea admin API token was given on the first screen."
                },
                path == Path::AdminApi,
                admin_available,
                Message::PathSelected(Path::AdminApi),
            ),
            widget::choice(
                "I created it in Orchidea",
                "Paste the SCIM URL and the SCIM secret from Orchidea's SCIM tab.",
                path == Path::Manual,
                true,
                Message::PathSelected(Path::Manual),
            ),
        ]
        .spacing(12)
        .width(Fill);
        page = match path {
            Path::AdminApi => page.push(self.idp_list(session)),
            Path::Manual => page.push(self.manual_fields(session)),
        };
        page.into()
    }

    fn idp_list<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let body: Element<'a, Message> = match &session.idps {
            None => text("Loading the workspace's IDPs…").size(14).into(),
            Some(Err(e)) => widget::error_banner(e.to_string(), Some(Message::ReloadIdps)),
            Some(Ok(idps)) => column(idps.iter().map(|idp| {
                let default = if idp.default {
                    " · workspace default"
                } else {
                    ""
                };
                widget::choice(
                    idp.name.as_str(),
                    format!("{}{default}", idp.kind),
                    self.idp.as_deref() == Some(idp.id.as_str()),
                    true,
                    Message::IdpSelected(idp.id.clone()),
                )
            }))
            .spacing(6)
            .into(),
        };
        column![
            text("Chosen IDP: the sign-in method Orchidea gives users created through SCIM")
                .size(15),
            body
        ]
        .spacing(8)
        .into()
    }

    fn manual_fields<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let hint = match &session.target {
            Some(Target::Sandbox(s)) => format!(
                "In the sandbox, Orchidea's SCIM tab is the page {}{} in your browser: \
                 create a secret there and paste both values here.",
                s.orchidea_url.as_str().trim_end_matches('/'),
                crate::sandbox::webui::PATH
            ),
            _ => "Both values are on Orchidea's SCIM tab right after you create the secret.".into(),
        };
        column![
            text(hint).size(13).style(theme::muted),
            widget::field(
                "SCIM URL",
                "https://yourcompany.orchidea.example/scim/v2",
                &self.scim_url,
                Message::ScimUrlChanged,
                false,
                self.url_error.as_deref(),
            ),
            widget::secret_field(
                "SCIM secret",
                "Paste the SCIM secret",
                self.secret.expose(),
                |s| Message::SecretChanged(Secret::typed(s)),
                self.reveal,
                Message::ToggleReveal,
                self.secret_error.as_deref(),
            ),
        ]
        .spacing(12)
        .into()
    }
}
