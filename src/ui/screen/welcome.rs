//! First screen: what the wizard does, what the admin needs, and where to
//! work (the built-in sandbox or the real tenant).

use iced::widget::{column, text};
use iced::{Element, Fill};

use crate::platform::settings::Settings;
use crate::ui::panel::sign_in::{self, SignIn};
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::{Op, SandboxFiles, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sandbox,
    Tenant,
}

pub struct Welcome {
    pub mode: Mode,
    /// The real-tenant panel: sign-in and Orchidea's admin API.
    pub sign_in: SignIn,
    /// Where the last run on a real tenant stopped, if it did not finish.
    pub last_run: Option<String>,
    /// The tenant file the sandbox simulates (`--sandbox-tenant`) and the
    /// state it keeps (`--sandbox-state`).
    pub sandbox: SandboxFiles,
}

#[derive(Debug, Clone)]
pub enum Message {
    ModeSelected(Mode),
    SignIn(sign_in::Message),
    /// The sandbox runs: it is where the wizard works now.
    SandboxStarted,
    /// The work in flight was cancelled (Back or Esc), a sign-in with it.
    Cancelled,
    /// The sign-in ended (the root saved the settings when it worked).
    SignedIn(Result<sign_in::SignedIn, crate::services::connect::ConnectError>),
    /// Orchidea accepted the admin API token for this workspace.
    OrchideaChecked(url::Url, crate::platform::secret::Secret),
}

impl Default for Welcome {
    fn default() -> Self {
        Self::new(None, Settings::default(), SandboxFiles::default())
    }
}

impl Welcome {
    /// The first screen, pre-filled from the saved settings, mentioning an
    /// unfinished run on a real tenant.
    pub fn new(last_run: Option<String>, settings: Settings, sandbox: SandboxFiles) -> Self {
        Self {
            mode: Mode::Sandbox,
            sign_in: SignIn::from_settings(settings),
            last_run,
            sandbox,
        }
    }

    pub fn update(&mut self, message: Message, session: &mut Session) -> Action {
        match message {
            Message::ModeSelected(mode) => self.mode = mode,
            Message::SignIn(m) => {
                if matches!(m, sign_in::Message::Cancel) {
                    session.cancel();
                }
                return self.sign_in.update(m);
            }
            Message::SandboxStarted => self.mode = Mode::Sandbox,
            Message::Cancelled => self.sign_in.cancelled(),
            Message::SignedIn(result) => {
                if let Some(e) = self.sign_in.finished(result) {
                    return Action::Fail(e);
                }
            }
            Message::OrchideaChecked(workspace, token) => {
                if let Some(signed) = self.sign_in.signed_in().cloned() {
                    return Action::OpenTenant(Box::new(signed), Some((workspace, token)));
                }
            }
        }
        Action::None
    }

    /// The sandbox (started once), or the tenant signed in to, with
    /// Orchidea's admin API checked first when a token was given.
    pub fn primary(&mut self, session: &Session) -> Action {
        match self.mode {
            Mode::Sandbox => match session.target {
                Some(Target::Sandbox(_)) => Action::Next,
                _ => Action::Run(Op::StartSandbox(self.sandbox.clone())),
            },
            Mode::Tenant => match self.sign_in.ready() {
                Err(message) => Action::Fail(message),
                Ok((signed, None)) => Action::OpenTenant(Box::new(signed), None),
                Ok((_, Some((workspace, token)))) => Action::Run(Op::CheckOrchidea {
                    workspace,
                    token,
                    remember: self.sign_in.remember(),
                }),
            },
        }
    }

    pub fn primary_label(&self, session: &Session) -> &'static str {
        match (self.mode, &session.target) {
            (Mode::Sandbox, Some(Target::Sandbox(_))) | (Mode::Tenant, _) => "Next",
            (Mode::Sandbox, _) => "Start the sandbox",
        }
    }

    /// Up/Down moves between the two choices.
    pub fn arrow(&mut self) {
        self.mode = match self.mode {
            Mode::Sandbox => Mode::Tenant,
            Mode::Tenant => Mode::Sandbox,
        };
    }

    pub fn view(&self) -> Element<'_, Message> {
        let intro = column![
            text("Connect Orchidea to Microsoft Entra ID").size(28),
            text(
                "This wizard sets up SCIM user provisioning, so Entra creates and disables \
                 Orchidea users for you. It follows the 16 steps of Orchidea's article \
                 \"Create and disable users automatically with SCIM user provisioning\", \
                 checks what is already configured, and changes only what is missing."
            )
            .size(15),
            text(
                "Go step by step, or let the wizard run the remaining steps: it pauses \
                 before it rewrites the attribute mappings and before it starts provisioning."
            )
            .size(15),
        ]
        .spacing(10);
        let needs = column![
            text("You will need").size(18),
            text("•  An Orchidea workspace admin account (SCIM is an add-on on paid plans).")
                .size(14),
            text(
                "•  A Microsoft Entra account with the Application Administrator or \
                 Cloud Application Administrator role."
            )
            .size(14),
            text("•  The Orchidea SSO app under Entra → Enterprise applications.").size(14),
        ]
        .spacing(6);
        let choices = column![
            text("Where to work").size(18),
            widget::choice(
                "Sandbox: a practice run on this computer",
                "A simulated Entra tenant and Orchidea workspace on 127.0.0.1. Nothing leaves this machine.",
                self.mode == Mode::Sandbox,
                true,
                Message::ModeSelected(Mode::Sandbox),
            ),
            widget::choice(
                "My Microsoft Entra tenant",
                "Sign in as an administrator of your tenant (browser or device code).",
                self.mode == Mode::Tenant,
                true,
                Message::ModeSelected(Mode::Tenant),
            ),
        ]
        .spacing(8);
        let mut page = column![intro, needs, choices].spacing(24).width(Fill);
        if self.mode == Mode::Tenant {
            if let Some(last) = &self.last_run {
                page = page.push(widget::notice_banner(
                    text(format!(
                        "Continue where you left off: your last run stopped with {last}. \
                         Enter the same tenant and choose \"Run the remaining steps\": every \
                         step is checked, and only what is missing is done."
                    ))
                    .size(14),
                ));
            }
            page = page.push(self.sign_in.view().map(Message::SignIn));
        }
        // The About text: Windows GUI builds have no console for --version.
        page.push(
            text(format!(
                "About: Orchidea SCIM Setup Wizard {}",
                crate::platform::build_info::LONG_VERSION
            ))
            .size(12)
            .style(theme::muted),
        )
        .into()
    }
}
