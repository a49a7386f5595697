//! Step 0: SAML single sign-on between Entra and Orchidea (Orchidea's SSO
//! article), which the SCIM steps take for granted. The screen checks as it
//! opens; when no Orchidea app signs users in with SAML, the admin chooses:
//! the wizard sets it up (Entra's half over Graph; Orchidea's half through
//! its admin API, or by hand with the metadata file and the reply URL
//! pasted back here), or skips it.

use iced::widget::{button, column, text};
use iced::{Element, Fill};
use url::Url;

use crate::engine::{Engine, Facts, SsoChoice};
use crate::procedure::checklist::Status;
use crate::procedure::step::StepId;
use crate::services::orchidea::SamlAttributeNames;
use crate::services::orchidea::sso::{ReplyUrlRules, parse_reply_url};
use crate::setup::{Choices, OrchideaAccess};
use crate::ui::app;
use crate::ui::panel;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::{Op, Outcome, Target, TargetError};

pub const STEPS: [StepId; 1] = [StepId::SsoIntegration];

/// The button that leaves single sign-on to the admin.
pub const SKIP: &str = "Skip: I set up single sign-on myself";

/// What step 0 runs with, from this screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoRequest {
    /// `No`: only the check, as the screen opens.
    pub choice: SsoChoice,
    /// The workspace home (the Sign on URL) when no admin API gives it.
    pub workspace_url: Option<Url>,
    /// The reply URL copied from Orchidea's new IDP (the manual path).
    pub reply_url: Option<String>,
    /// Orchidea's half by hand although its admin API is there (practice).
    pub by_hand: bool,
}

#[derive(Default)]
pub struct Sso {
    /// The admin asked the wizard to set it up: the engines built later
    /// (screen 1, "Run the remaining steps") keep that choice.
    pub wanted: bool,
    /// Orchidea's IDP added by the admin in its web UI, not by the wizard.
    by_hand: bool,
    workspace_url: String,
    workspace_error: Option<String>,
    reply_url: String,
    reply_error: Option<String>,
    /// What step 0 did last (the engine built next starts from it).
    pub ran: Option<Box<Facts>>,
}

#[derive(Debug, Clone)]
pub enum Message {
    /// Who adds Orchidea's IDP: the wizard (`false`) or the admin.
    ByHand(bool),
    WorkspaceChanged(String),
    ReplyUrlChanged(String),
    /// Leave single sign-on to the admin and go on.
    Skip,
    /// Put a claim name on the clipboard (not secret).
    Copy(String),
    /// No engine could be built for step 0.
    Failed(String),
    /// Step 0 ran (the check or the set-up): what its engine knew.
    Ran(Box<Facts>),
}

impl Sso {
    pub fn update(&mut self, message: Message, _: &mut Session) -> Action {
        match message {
            Message::ByHand(v) => self.by_hand = v,
            Message::WorkspaceChanged(v) => {
                self.workspace_url = v;
                self.workspace_error = None;
            }
            Message::ReplyUrlChanged(v) => {
                self.reply_url = v;
                self.reply_error = None;
            }
            Message::Skip => {
                self.wanted = false;
                return Action::Next;
            }
            Message::Copy(v) => return Action::Copy(v),
            Message::Failed(e) => return Action::Fail(e),
            Message::Ran(facts) => self.ran = Some(facts),
        }
        Action::None
    }

    /// Up/Down: the other way of doing Orchidea's half (when there is one).
    pub fn arrow(&mut self, session: &Session) {
        if session.target.as_ref().is_some_and(Target::has_admin) {
            self.by_hand = !self.by_hand;
        }
    }

    /// The check (read-only) once per target, as the screen opens.
    pub fn on_enter(&self, session: &Session) -> Action {
        let unchecked = session.checklist.status(StepId::SsoIntegration) == &Status::Pending;
        if session.target.is_some() && unchecked && !session.is_busy() {
            Action::Run(Op::Sso(Box::default()))
        } else {
            Action::None
        }
    }

    /// Done here or already there; "left to the admin" still offers the set-up.
    pub fn is_complete(&self, session: &Session) -> bool {
        matches!(
            session.checklist.status(StepId::SsoIntegration),
            Status::Done(_) | Status::AlreadyDone(_)
        )
    }

    pub fn primary_label(&self, _: &Session) -> &'static str {
        "Set up single sign-on"
    }

    /// Sets it up with what is typed (the fields are checked first).
    pub fn primary(&mut self, session: &Session) -> Action {
        let Some(target) = &session.target else {
            return Action::Fail(crate::ui::screen::orchidea_secret::NO_TARGET.into());
        };
        let by_hand = self.by_hand(target);
        let mut request = SsoRequest {
            choice: SsoChoice::Yes,
            by_hand,
            ..SsoRequest::default()
        };
        if !target.has_admin() && matches!(target, Target::Tenant(_)) {
            match parse_workspace(&self.workspace_url) {
                Ok(url) => request.workspace_url = Some(url),
                Err(e) => {
                    self.workspace_error = Some(e);
                    return Action::None;
                }
            }
        }
        if by_hand && !self.reply_url.trim().is_empty() {
            // Checked here too, so the message stands under the field.
            let workspace = match target {
                Target::Sandbox(s) => Some(s.orchidea_url.clone()),
                Target::Tenant(t) => request
                    .workspace_url
                    .clone()
                    .or_else(|| t.orchidea.as_ref().map(|(url, _)| url.clone())),
            };
            let rules = ReplyUrlRules {
                workspace_url: workspace.as_ref(),
                // As the engine: Orchidea on loopback beside a Graph on loopback.
                sandbox: match target {
                    Target::Sandbox(_) => true,
                    Target::Tenant(t) => crate::platform::http::is_loopback(&t.graph_url),
                },
            };
            if let Err(e) = parse_reply_url(&self.reply_url, rules) {
                self.reply_error = Some(e.to_string());
                return Action::None;
            }
            request.reply_url = Some(self.reply_url.trim().to_string());
        }
        self.wanted = true;
        Action::Run(Op::Sso(Box::new(request)))
    }

    /// What the engines built for the next steps carry for step 0.
    pub fn request(&self) -> SsoRequest {
        let reply_url = Some(self.reply_url.trim().to_string()).filter(|r| !r.is_empty());
        // By hand without the reply URL yet, later steps must not do
        // Orchidea's half through its admin API behind the admin's back.
        let asked = self.wanted && !(self.by_hand && reply_url.is_none());
        SsoRequest {
            choice: if asked { SsoChoice::Yes } else { SsoChoice::No },
            workspace_url: parse_workspace(&self.workspace_url).ok(),
            reply_url,
            by_hand: self.by_hand,
        }
    }

    /// Orchidea's half is the admin's: chosen, or no admin API.
    fn by_hand(&self, target: &Target) -> bool {
        self.by_hand || !target.has_admin()
    }

    pub fn page<'a>(&'a self, session: &'a Session) -> Element<'a, app::Message> {
        // "Left to you" is not a success: the screen says what to do instead.
        let left_to_admin = matches!(
            session.checklist.status(StepId::SsoIntegration),
            Status::Manual(_)
        );
        column![
            self.view(session).map(app::Message::Sso),
            (!left_to_admin).then(|| panel::result(session, StepId::SsoIntegration)),
        ]
        .spacing(16)
        .into()
    }

    fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let mut page = column![
            text(
                "Orchidea's SCIM article starts from an Orchidea app in Entra that signs users \
                 in with SAML, and an IDP in Orchidea made from Entra's federation metadata. \
                 When they exist, this step has nothing to do."
            )
            .size(15),
        ]
        .spacing(12)
        .width(Fill);
        let status = session.checklist.status(StepId::SsoIntegration);
        if matches!(status, Status::Pending) && session.is_busy() {
            page = page.push(text("Checking the tenant's Orchidea app…").size(14));
        }
        if self.is_complete(session) {
            return page.into();
        }
        page = page.push(
            text(
                "The wizard can set it up: create or complete the Orchidea app (Identifier \
                 https://orchidea.dev, Reply URL, Sign on URL, a signing certificate), then \
                 Orchidea's IDP from the metadata, and Orchidea's reply URL in Entra.",
            )
            .size(14)
            .style(theme::muted),
        );
        let Some(target) = &session.target else {
            return page.into();
        };
        let admin = target.has_admin();
        page = page.push(widget::choice(
            "Add Orchidea's IDP for me",
            if admin {
                "Uses Orchidea's admin API: the IDP is made from Entra's federation metadata."
            } else {
                "Not available: no Orchidea admin API token was given on the first screen."
            },
            !self.by_hand(target),
            admin,
            Message::ByHand(false),
        ));
        page = page.push(widget::choice(
            "I add the IDP in Orchidea",
            "The wizard sets up Entra and saves the metadata file; you add the IDP in Orchidea's web UI and paste its reply URL here.",
            self.by_hand(target),
            true,
            Message::ByHand(true),
        ));
        if self.by_hand(target) {
            page = page.push(self.manual_fields(session));
        }
        page.push(
            button(text(SKIP).size(14))
                .padding([6, 12])
                .style(button::secondary)
                .on_press(Message::Skip),
        )
        .into()
    }

    /// The manual path: where the metadata is, the names Orchidea asks
    /// for, and the reply URL to paste back.
    fn manual_fields<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let mut col = column![].spacing(10);
        if matches!(session.target, Some(Target::Tenant(_))) {
            col = col.push(widget::field(
                "Orchidea workspace address (the Sign on URL)",
                "https://app.orchidea.dev/yourworkspace",
                &self.workspace_url,
                Message::WorkspaceChanged,
                false,
                self.workspace_error.as_deref(),
            ));
        }
        if let Some(saved) = metadata_note(session) {
            col = col.push(text(saved).size(13));
        }
        let page = match &session.target {
            Some(Target::Sandbox(s)) => format!(
                "In the sandbox, that page is {}{} in your browser.",
                s.orchidea_url.as_str().trim_end_matches('/'),
                crate::sandbox::webui::authentication::PATH
            ),
            _ => "Set up single sign-on once first: it saves the metadata file.".into(),
        };
        col = col.push(
            text(format!(
                "In Orchidea: workspace settings → Authentication → \"+ Add new IDP\": a name, \
                 the federation metadata file, and these attribute names. {page}"
            ))
            .size(14),
        );
        for (label, value) in SamlAttributeNames::entra_default_claims().labelled() {
            col = col.push(claim_row(label, value.to_string()));
        }
        col.push(widget::field(
            "Reply URL (\"Copy reply URL\" on the new IDP)",
            "https://app.orchidea.dev/api/saml/login/…",
            &self.reply_url,
            Message::ReplyUrlChanged,
            false,
            self.reply_error.as_deref(),
        ))
        .into()
    }
}

/// A claim name with its copy button.
fn claim_row(label: &str, value: String) -> Element<'_, Message> {
    widget::copy_row(label, value.clone(), "Copy", Message::Copy(value))
}

/// Where step 0 saved Entra's federation metadata, once it did.
fn metadata_note(session: &Session) -> Option<&str> {
    session
        .facts()?
        .warnings
        .iter()
        .find(|w| w.starts_with(crate::engine::sso_guide::METADATA_NOTE))
        .map(String::as_str)
}

/// The workspace home: `https://…/<workspace>`.
fn parse_workspace(input: &str) -> Result<Url, String> {
    let url = Url::parse(input.trim()).map_err(|_| {
        "Type the workspace's address, e.g. https://app.orchidea.dev/yourworkspace.".to_string()
    })?;
    if url.scheme() != "https" || url.path().trim_matches('/').is_empty() {
        return Err(
            "The workspace's address is https://app.orchidea.dev/<workspace>: https, with the workspace's name."
                .into(),
        );
    }
    Ok(url)
}

/// Step 0 with an engine built for it: Orchidea's admin API when there is
/// one, else Graph only (Orchidea's half is the admin's, by hand).
pub async fn run(
    target: Option<Target>,
    choices: Choices,
    request: SsoRequest,
    events: tokio::sync::mpsc::UnboundedSender<crate::procedure::checklist::Progress>,
) -> Outcome {
    let engine = match engine_for(target, choices, request) {
        Ok(engine) => engine.with_events(events),
        Err(e) => {
            let failed = app::Message::Sso(Message::Failed(e.to_string()));
            return Outcome::Reply(Box::new(failed));
        }
    };
    let result = engine.run_step(StepId::SsoIntegration).await;
    let snapshot = crate::ui::work::snapshot(&engine).await;
    Outcome::Engine(result.map(|_| ()), Box::new(snapshot))
}

fn engine_for(
    target: Option<Target>,
    choices: Choices,
    request: SsoRequest,
) -> Result<Engine, TargetError> {
    let mut cfg = match target.ok_or(TargetError::NoTarget)? {
        Target::Sandbox(s) => crate::setup::sandbox_config(&s, None, choices),
        Target::Tenant(t) => {
            let access = match &t.orchidea {
                Some((url, token)) => OrchideaAccess::AdminApi {
                    workspace_url: url.clone(),
                    admin_token: token.clone(),
                    idp: None,
                },
                None => OrchideaAccess::NotNeeded,
            };
            t.config(access, choices)?
        }
    };
    if request.by_hand {
        cfg.secret_source = crate::engine::SecretSource::NotNeeded;
    }
    apply(&mut cfg, request);
    Ok(Engine::new(cfg))
}

/// Step 0's choice and inputs on an engine configuration.
pub fn apply(cfg: &mut crate::engine::EngineConfig, request: SsoRequest) {
    cfg.sso.choice = request.choice;
    if request.workspace_url.is_some() {
        cfg.sso.workspace_url = request.workspace_url;
    }
    cfg.sso.reply_url = request.reply_url;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_address_is_https_with_the_workspace() {
        assert!(parse_workspace("https://app.orchidea.dev/acme").is_ok());
        assert!(parse_workspace(" https://app.orchidea.dev/acme/ ").is_ok());
        assert!(parse_workspace("https://app.orchidea.dev/").is_err());
        assert!(parse_workspace("http://app.orchidea.dev/acme").is_err());
        assert!(parse_workspace("acme").is_err());
    }

    #[test]
    fn the_request_keeps_what_the_admin_chose() {
        let mut screen = Sso::default();
        assert_eq!(screen.request().choice, SsoChoice::No);
        screen.wanted = true;
        screen.reply_url = "  https://app.orchidea.dev/api/saml/login/x ".into();
        let request = screen.request();
        assert_eq!(request.choice, SsoChoice::Yes);
        // By hand, the later steps wait for the reply URL.
        screen.by_hand = true;
        assert_eq!(screen.request().choice, SsoChoice::Yes);
        screen.reply_url.clear();
        assert_eq!(screen.request().choice, SsoChoice::No);
        assert_eq!(
            request.reply_url.as_deref(),
            Some("https://app.orchidea.dev/api/saml/login/x")
        );
    }
}
