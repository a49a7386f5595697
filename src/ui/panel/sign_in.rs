//! The first screen's real-tenant panel: where to sign in (cloud, tenant,
//! own app registration, endpoint overrides), the sign-in itself (browser,
//! or a device code with the code to copy), "Remember me", sign-out, the
//! role check's verdict, and Orchidea's workspace and admin API token.

use std::sync::Arc;

use iced::widget::{button, checkbox, column, pick_list, row, text};
use iced::{Alignment, Element, Fill};
use url::Url;

use crate::platform::cloud::Cloud;
use crate::platform::secret::Secret;
use crate::platform::settings::Settings;
use crate::services::connect::{self, ConnectError, Overrides};
use crate::services::graph::TokenSource;
use crate::services::signin::{Account, DeviceCodePrompt, RoleCheck, SignInConfig};
use crate::ui::screen::Action;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::{Method, Op, SignInRequest};

/// What the panel is doing.
#[derive(Debug, Clone)]
pub enum State {
    SignedOut,
    /// Sign-in in flight; `None` until the browser link or code is known.
    Waiting(Option<Prompt>),
    SignedIn(Box<SignedIn>),
}

/// What the admin must act on while sign-in waits.
#[derive(Debug, Clone)]
pub enum Prompt {
    Browser(Url),
    Device(DeviceCodePrompt),
}

/// A finished sign-in: the token source Graph calls use, and what the
/// admin is told about it.
#[derive(Clone)]
pub struct SignedIn {
    pub cfg: SignInConfig,
    pub token: Arc<dyn TokenSource>,
    pub account: Account,
    /// The role check's verdict, or why it could not be read.
    pub roles: Result<RoleCheck, String>,
    /// Where the sign-in is kept ("Remember me"), or why only this session.
    pub kept: Option<String>,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("tenant", &self.cfg.tenant)
            .field("account", &self.account)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// Orchidea's workspace URL and admin token (`None`: the remembered one).
pub type OrchideaAccess = (Url, Option<Secret>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Tenant,
    ClientId,
    LoginUrl,
    GraphUrl,
    WorkspaceUrl,
    AdminToken,
}

#[derive(Debug, Clone)]
pub enum Message {
    CloudSelected(Cloud),
    TenantChanged(String),
    ClientIdChanged(String),
    LoginUrlChanged(String),
    GraphUrlChanged(String),
    ToggleAdvanced,
    Redirect127(bool),
    Remember(bool),
    WorkspaceUrlChanged(String),
    AdminTokenChanged(Secret),
    ToggleReveal,
    Browser,
    DeviceCode,
    Cancel,
    SignOut,
    /// From the sign-in work: the link or code to show.
    Prompted(Prompt),
    CopyCode,
    CopyLink,
    OpenPage,
}

// The form's checkboxes and toggles, one bool each as the widgets take them.
#[allow(clippy::struct_excessive_bools)]
pub struct SignIn {
    cloud: Cloud,
    tenant: String,
    client_id: String,
    login_url: String,
    graph_url: String,
    redirect_127: bool,
    advanced: bool,
    remember: bool,
    workspace_url: String,
    admin_token: Secret,
    reveal: bool,
    pub state: State,
    error: Option<(Field, String)>,
    /// The settings this panel started from; saved again after sign-in.
    saved: Settings,
}

impl Default for SignIn {
    fn default() -> Self {
        Self::from_settings(Settings::default())
    }
}

impl SignIn {
    /// Pre-filled from the saved settings.
    pub fn from_settings(s: Settings) -> Self {
        let text = |u: &Option<Url>| u.as_ref().map(Url::to_string).unwrap_or_default();
        Self {
            cloud: s.cloud,
            tenant: s.tenant.clone().unwrap_or_default(),
            client_id: s.client_id.clone().unwrap_or_default(),
            login_url: text(&s.login_url),
            graph_url: text(&s.graph_url),
            redirect_127: s.redirect_127,
            advanced: s.client_id.is_some() || s.login_url.is_some() || s.graph_url.is_some(),
            remember: s.remember_me,
            workspace_url: text(&s.orchidea_url),
            admin_token: Secret::new(""),
            reveal: false,
            state: State::SignedOut,
            error: None,
            saved: s,
        }
    }

    pub fn update(&mut self, message: Message) -> Action {
        let edits_sign_in = matches!(
            message,
            Message::CloudSelected(_)
                | Message::TenantChanged(_)
                | Message::ClientIdChanged(_)
                | Message::LoginUrlChanged(_)
                | Message::GraphUrlChanged(_)
                | Message::Redirect127(_)
        );
        // Editing where to sign in while signed in would mix two tenants.
        if edits_sign_in && matches!(self.state, State::SignedIn(_) | State::Waiting(_)) {
            return Action::None;
        }
        match message {
            Message::CloudSelected(c) => self.cloud = c,
            Message::TenantChanged(v) => self.tenant = v,
            Message::ClientIdChanged(v) => self.client_id = v,
            Message::LoginUrlChanged(v) => self.login_url = v,
            Message::GraphUrlChanged(v) => self.graph_url = v,
            Message::ToggleAdvanced => self.advanced = !self.advanced,
            Message::Redirect127(on) => self.redirect_127 = on,
            Message::Remember(on) => self.remember = on,
            Message::WorkspaceUrlChanged(v) => self.workspace_url = v,
            Message::AdminTokenChanged(v) => self.admin_token = v,
            Message::ToggleReveal => self.reveal = !self.reveal,
            Message::Browser => return self.start(Method::Browser),
            Message::DeviceCode => return self.start(Method::DeviceCode),
            // The root aborts the work; the panel only forgets the prompt.
            Message::Cancel => self.state = State::SignedOut,
            Message::SignOut => {
                let State::SignedIn(signed) = &self.state else {
                    return Action::None;
                };
                let op = Op::SignOut(signed.cfg.clone(), self.workspace().ok().flatten());
                self.state = State::SignedOut;
                return Action::Run(op);
            }
            Message::Prompted(p) => {
                if matches!(self.state, State::Waiting(_)) {
                    self.state = State::Waiting(Some(p));
                }
            }
            Message::CopyCode => {
                if let State::Waiting(Some(Prompt::Device(p))) = &self.state {
                    return Action::Copy(p.user_code.clone());
                }
            }
            Message::CopyLink => {
                if let State::Waiting(Some(Prompt::Browser(url))) = &self.state {
                    return Action::Copy(url.to_string());
                }
            }
            Message::OpenPage => {
                if let State::Waiting(Some(Prompt::Device(p))) = &self.state {
                    return Action::Open(p.verification_uri.clone());
                }
            }
        }
        Action::None
    }

    /// The sign-in configuration from the fields; errors go under the field.
    fn config(&mut self) -> Option<SignInConfig> {
        self.error = None;
        let saved = Settings {
            redirect_127: self.redirect_127,
            ..Settings::default()
        };
        let o = Overrides {
            cloud: Some(self.cloud),
            tenant: Some(self.tenant.clone()),
            client_id: Some(self.client_id.clone()),
            login_url: Some(self.login_url.clone()),
            graph_url: Some(self.graph_url.clone()),
        };
        match connect::signin_config(&saved, &o) {
            Ok(cfg) => Some(cfg),
            Err(e) => {
                let about = |prefix: &str| match &e {
                    ConnectError::NotAnAddress { what, .. }
                    | ConnectError::NotHttps { what, .. } => what.contains(prefix),
                    _ => false,
                };
                let field = if about("sign-in URL") {
                    Field::LoginUrl
                } else if about("Graph URL") {
                    Field::GraphUrl
                } else if matches!(e, ConnectError::NotAClientId(_)) {
                    Field::ClientId
                } else {
                    Field::Tenant
                };
                let e = e.to_string();
                if matches!(field, Field::LoginUrl | Field::GraphUrl | Field::ClientId) {
                    self.advanced = true;
                }
                self.error = Some((field, e));
                None
            }
        }
    }

    fn start(&mut self, method: Method) -> Action {
        if !matches!(self.state, State::SignedOut) {
            return Action::None;
        }
        let Some(cfg) = self.config() else {
            return Action::None;
        };
        self.state = State::Waiting(None);
        Action::Run(Op::SignIn(Box::new(SignInRequest {
            cfg,
            method,
            remember: self.remember,
            settings: self.settings_to_save(),
        })))
    }

    /// What is saved after a successful sign-in: never a token.
    fn settings_to_save(&self) -> Settings {
        let url = |s: &str| Url::parse(s.trim()).ok();
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Settings {
            cloud: self.cloud,
            tenant: some(&self.tenant),
            client_id: some(&self.client_id),
            login_url: url(&self.login_url),
            graph_url: url(&self.graph_url),
            orchidea_url: url(&self.workspace_url),
            redirect_127: self.redirect_127,
            remember_me: self.remember,
            last: self.saved.last.clone(),
        }
    }

    /// The sign-in work was aborted (Back, Esc): back to the buttons.
    pub fn cancelled(&mut self) {
        if matches!(self.state, State::Waiting(_)) {
            self.state = State::SignedOut;
        }
    }

    /// The sign-in finished (or failed: back to signed out, fields kept).
    pub fn finished(&mut self, result: Result<SignedIn, ConnectError>) -> Option<String> {
        match result {
            Ok(signed) => {
                self.state = State::SignedIn(Box::new(signed));
                None
            }
            Err(e) => {
                self.state = State::SignedOut;
                Some(e.to_string())
            }
        }
    }

    pub fn signed_in(&self) -> Option<&SignedIn> {
        match &self.state {
            State::SignedIn(s) => Some(s),
            _ => None,
        }
    }

    pub fn remember(&self) -> bool {
        self.remember
    }

    /// The workspace URL, if one is entered.
    fn workspace(&self) -> Result<Option<Url>, ConnectError> {
        match self.workspace_url.trim() {
            "" => Ok(None),
            raw => connect::parse_endpoint(raw, "Orchidea workspace URL").map(Some),
        }
    }

    /// What Continue needs: the sign-in and, optionally, Orchidea's admin
    /// API (workspace URL and token together; no token with "Remember me"
    /// means the remembered one). Errors go under the field.
    pub fn ready(&mut self) -> Result<(SignedIn, Option<OrchideaAccess>), String> {
        self.error = None;
        let Some(signed) = self.signed_in().cloned() else {
            return Err("Sign in to Microsoft Entra first (browser or device code).".into());
        };
        if let Ok(check @ RoleCheck::Insufficient(_)) = &signed.roles {
            return Err(check.message());
        }
        let workspace = match self.workspace() {
            Ok(w) => w,
            Err(e) => {
                let e = e.to_string();
                self.error = Some((Field::WorkspaceUrl, e.clone()));
                return Err(e);
            }
        };
        let token = self.admin_token.expose().trim();
        let orchidea = match (workspace, token.is_empty()) {
            (None, true) => None,
            (None, false) => {
                let e = "Enter the workspace URL that goes with the admin API token.".to_string();
                self.error = Some((Field::WorkspaceUrl, e.clone()));
                return Err(e);
            }
            (Some(url), true) if self.remember => Some((url, None)),
            (Some(_), true) => {
                let e = "Paste Orchidea's admin API token, or clear the workspace URL to paste the SCIM secret by hand.".to_string();
                self.error = Some((Field::AdminToken, e.clone()));
                return Err(e);
            }
            (Some(url), false) => Some((url, Some(Secret::new(token)))),
        };
        Ok((signed, orchidea))
    }

    pub fn view(&self) -> Element<'_, Message> {
        let err = |f: Field| {
            self.error
                .as_ref()
                .filter(|(field, _)| *field == f)
                .map(|(_, e)| e.as_str())
        };
        let mut page = column![text("Sign in to Microsoft Entra").size(18)].spacing(12);
        page = page.push(match &self.state {
            State::SignedOut => self.where_to_sign_in(&err),
            State::Waiting(prompt) => waiting(prompt.as_ref()),
            State::SignedIn(signed) => signed_in(signed),
        });
        page = page.push(
            text(
                "Optional: with Orchidea's admin API the wizard creates the SCIM secret \
                 itself. Leave both empty to paste a secret you create in Orchidea.",
            )
            .size(13)
            .style(theme::muted),
        );
        page.push(widget::field(
            "Orchidea workspace URL",
            "https://yourcompany.orchidea.example",
            &self.workspace_url,
            Message::WorkspaceUrlChanged,
            false,
            err(Field::WorkspaceUrl),
        ))
        .push(widget::secret_field(
            "Orchidea admin API token",
            "Paste the admin API token",
            self.admin_token.expose(),
            |s| Message::AdminTokenChanged(Secret::typed(s)),
            self.reveal,
            Message::ToggleReveal,
            err(Field::AdminToken),
        ))
        .into()
    }

    fn where_to_sign_in<'a>(
        &'a self,
        err: &dyn Fn(Field) -> Option<&'a str>,
    ) -> Element<'a, Message> {
        let cloud = column![
            text("Microsoft cloud").size(14),
            pick_list(Cloud::ALL, Some(self.cloud), Message::CloudSelected)
                .padding(8)
                .text_size(15),
        ]
        .spacing(4)
        .width(260);
        let tenant = widget::field(
            "Tenant (optional)",
            "contoso.onmicrosoft.com or the tenant ID",
            &self.tenant,
            Message::TenantChanged,
            false,
            err(Field::Tenant),
        );
        let buttons = row![
            crate::ui::widget::focusable(
                button(text("Sign in with browser").size(15))
                    .padding([8, 16])
                    .on_press(Message::Browser)
            ),
            crate::ui::widget::focusable(
                button(text("Use a device code").size(15))
                    .padding([8, 16])
                    .style(button::secondary)
                    .on_press(Message::DeviceCode)
            ),
        ]
        .spacing(10);
        let remember = checkbox(self.remember)
            .label(
                "Remember me on this computer (keeps only the refresh token, in the \
                 system's credential store; Sign out removes it)",
            )
            .on_toggle(Message::Remember)
            .text_size(14);
        let mut col = column![
            row![cloud, tenant].spacing(12).align_y(Alignment::Start),
            remember,
            buttons,
            text(
                "The wizard signs in as \"Microsoft Graph Command Line Tools\" unless you \
                 give your own app registration. The first sign-in in a tenant needs an \
                 administrator's consent to its permissions (README, \"Signing in\")."
            )
            .size(13)
            .style(theme::muted),
            crate::ui::widget::focusable(
                button(
                    text(if self.advanced {
                        "Hide advanced settings"
                    } else {
                        "Advanced settings: own app registration, endpoints"
                    })
                    .size(14)
                )
                .style(button::text)
                .padding(0)
                .on_press(Message::ToggleAdvanced)
            ),
        ]
        .spacing(12);
        if self.advanced {
            col = col.push(
                column![
                    widget::field(
                        "Application (client) ID of your own app registration",
                        crate::services::signin::DEFAULT_CLIENT_ID,
                        &self.client_id,
                        Message::ClientIdChanged,
                        false,
                        err(Field::ClientId),
                    ),
                    widget::field(
                        "Sign-in URL",
                        "Default: the cloud's (login.microsoftonline.com, …)",
                        &self.login_url,
                        Message::LoginUrlChanged,
                        false,
                        err(Field::LoginUrl),
                    ),
                    widget::field(
                        "Microsoft Graph URL",
                        "Default: the cloud's (graph.microsoft.com/v1.0, …)",
                        &self.graph_url,
                        Message::GraphUrlChanged,
                        false,
                        err(Field::GraphUrl),
                    ),
                    checkbox(self.redirect_127)
                        .label("Redirect to http://127.0.0.1 (registered in the app's manifest) instead of http://localhost")
                        .on_toggle(Message::Redirect127)
                        .text_size(14),
                ]
                .spacing(10),
            );
        }
        col.into()
    }
}

fn waiting(prompt: Option<&Prompt>) -> Element<'_, Message> {
    let cancel = crate::ui::widget::focusable(
        button(text("Cancel").size(14))
            .padding([8, 16])
            .style(button::secondary)
            .on_press(Message::Cancel),
    );
    match prompt {
        None => column![text("Starting sign-in…").size(15), cancel]
            .spacing(10)
            .into(),
        Some(Prompt::Browser(url)) => column![
            text("Finish signing in in your browser; this window continues by itself.").size(15),
            text(widget::clip(url.as_str(), 90))
                .size(12)
                .style(theme::muted),
            row![
                crate::ui::widget::focusable(
                    button(text("Copy the sign-in link").size(14))
                        .padding([8, 16])
                        .style(button::secondary)
                        .on_press(Message::CopyLink)
                ),
                cancel
            ]
            .spacing(10),
        ]
        .spacing(10)
        .into(),
        Some(Prompt::Device(p)) => column![
            text("Enter this code on the sign-in page:").size(15),
            text(&p.user_code).size(30),
            text(&p.message).size(13).style(theme::muted),
            row![
                crate::ui::widget::focusable(
                    button(text("Copy code").size(14))
                        .padding([8, 16])
                        .on_press(Message::CopyCode)
                ),
                crate::ui::widget::focusable(
                    button(text("Open the page").size(14))
                        .padding([8, 16])
                        .style(button::secondary)
                        .on_press(Message::OpenPage)
                ),
                cancel
            ]
            .spacing(10),
        ]
        .spacing(10)
        .into(),
    }
}

fn signed_in(signed: &SignedIn) -> Element<'_, Message> {
    let who = signed.account.describe();
    let mut col = column![widget::success_banner(format!(
        "Signed in as {who}: tenant {}, {}.",
        signed
            .account
            .tenant_id
            .as_deref()
            .unwrap_or(&signed.cfg.tenant),
        signed.cfg.cloud
    ))]
    .spacing(10);
    col = col.push(match &signed.roles {
        Ok(check @ RoleCheck::Sufficient(_)) => {
            Element::from(text(check.message()).size(14).style(theme::muted))
        }
        Ok(check) => {
            widget::notice_banner(text(check.message()).size(14).style(theme::danger_text))
        }
        Err(e) => widget::notice_banner(
            text(format!(
                "Your directory roles could not be read ({e}). The steps will tell you if a permission is missing."
            ))
            .size(14),
        ),
    });
    if let Some(kept) = &signed.kept {
        col = col.push(text(kept.as_str()).size(13).style(theme::muted));
    }
    col.push(crate::ui::widget::focusable(
        button(text("Sign out").size(14))
            .padding([8, 16])
            .style(button::secondary)
            .on_press(Message::SignOut),
    ))
    .width(Fill)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt() -> DeviceCodePrompt {
        DeviceCodePrompt {
            user_code: "ABCD-EFGH".into(),
            verification_uri: Url::parse("https://microsoft.com/devicelogin").unwrap(),
            message: "To sign in, use a web browser …".into(),
            expires_in: std::time::Duration::from_secs(900),
        }
    }

    #[test]
    fn the_device_code_can_be_copied_and_its_page_opened_while_waiting() {
        let mut s = SignIn::default();
        let Action::Run(Op::SignIn(request)) = s.update(Message::DeviceCode) else {
            panic!("device code starts sign-in work");
        };
        assert_eq!(request.method, Method::DeviceCode);
        assert!(
            matches!(s.update(Message::CopyCode), Action::None),
            "no code yet"
        );
        let _ = s.update(Message::Prompted(Prompt::Device(prompt())));
        assert!(matches!(s.update(Message::CopyCode), Action::Copy(c) if c == "ABCD-EFGH"));
        assert!(
            matches!(s.update(Message::OpenPage), Action::Open(u) if u.as_str() == "https://microsoft.com/devicelogin")
        );
        // A second click while waiting starts nothing.
        assert!(matches!(s.update(Message::Browser), Action::None));
        let _ = s.update(Message::Cancel);
        assert!(matches!(s.state, State::SignedOut));
    }

    #[test]
    fn bad_fields_are_reported_under_the_field_and_start_nothing() {
        let mut s = SignIn::default();
        let _ = s.update(Message::ClientIdChanged("my-app".into()));
        assert!(matches!(s.update(Message::Browser), Action::None));
        assert!(matches!(&s.error, Some((Field::ClientId, e)) if e.contains("GUID")));
        assert!(s.advanced, "the advanced fields open to show the message");
        let _ = s.update(Message::ClientIdChanged(String::new()));
        let _ = s.update(Message::TenantChanged("common".into()));
        assert!(matches!(s.update(Message::Browser), Action::None));
        assert!(matches!(&s.error, Some((Field::Tenant, e)) if e.contains("personal")));
    }

    #[test]
    fn saved_settings_prefill_and_are_saved_back_without_secrets() {
        let saved = Settings {
            cloud: Cloud::UsGov,
            tenant: Some("contoso.onmicrosoft.us".into()),
            client_id: Some("11111111-2222-3333-4444-555555555555".into()),
            remember_me: true,
            ..Settings::default()
        };
        let mut s = SignIn::from_settings(saved.clone());
        assert!(
            s.advanced,
            "an own app registration shows the advanced fields"
        );
        let _ = s.update(Message::AdminTokenChanged(Secret::new("adm-secret-123")));
        let Action::Run(Op::SignIn(request)) = s.update(Message::Browser) else {
            panic!("sign-in starts");
        };
        assert_eq!(request.cfg.cloud, Cloud::UsGov);
        assert_eq!(
            request.cfg.client_id,
            "11111111-2222-3333-4444-555555555555"
        );
        assert!(request.remember);
        assert_eq!(request.settings.tenant, saved.tenant);
        let json = serde_json::to_string(&request.settings).unwrap();
        assert!(!json.contains("adm-secret-123"));
    }

    #[test]
    fn orchidea_fields_pair_up_and_a_remembered_token_may_stand_in() {
        let mut s = SignIn::default();
        assert!(s.ready().unwrap_err().contains("Sign in"));
        s.state = State::SignedIn(Box::new(SignedIn {
            cfg: SignInConfig::for_cloud(Cloud::Global),
            token: Arc::new(crate::services::graph::StaticToken(Secret::new("t"))),
            account: Account::default(),
            roles: Ok(RoleCheck::Sufficient(vec![
                "Application Administrator".into(),
            ])),
            kept: None,
        }));
        assert!(matches!(s.ready(), Ok((_, None))));
        let _ = s.update(Message::WorkspaceUrlChanged(
            "https://acme.orchidea.example".into(),
        ));
        assert!(s.ready().is_err());
        assert!(matches!(&s.error, Some((Field::AdminToken, _))));
        let _ = s.update(Message::Remember(true));
        assert!(matches!(s.ready(), Ok((_, Some((_, None))))));
        let _ = s.update(Message::WorkspaceUrlChanged("http://acme.example".into()));
        assert!(s.ready().unwrap_err().contains("https://"));
        // Where to sign in cannot change under a signed-in session.
        let _ = s.update(Message::TenantChanged("fabrikam.com".into()));
        assert_eq!(s.tenant, "");
    }
}
