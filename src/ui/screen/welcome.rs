//! First screen: what the wizard does, what the admin needs, and where to
//! work (the built-in sandbox or the real tenant).

use iced::widget::{column, text};
use iced::{Element, Fill};
use url::Url;

use crate::secret::Secret;
use crate::ui::theme;
use crate::ui::widget;
use crate::ui::work::Tenant;

/// Microsoft Graph v1.0, where the synchronization API lives.
pub const GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sandbox,
    Tenant,
}

pub struct Welcome {
    pub mode: Mode,
    graph_url: String,
    graph_token: Secret,
    workspace_url: String,
    admin_token: Secret,
    reveal: bool,
    error: Option<(Field, String)>,
    /// Where the last run on a real tenant stopped, if it did not finish.
    pub last_run: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    GraphUrl,
    GraphToken,
    WorkspaceUrl,
    AdminToken,
}

#[derive(Debug, Clone)]
pub enum Message {
    ModeSelected(Mode),
    GraphUrlChanged(String),
    GraphTokenChanged(Secret),
    WorkspaceUrlChanged(String),
    AdminTokenChanged(Secret),
    ToggleReveal,
}

impl Welcome {
    /// The first screen, mentioning an unfinished run on a real tenant.
    pub fn with_last_run(last_run: Option<String>) -> Self {
        Self {
            last_run,
            ..Self::default()
        }
    }
}

impl Default for Welcome {
    fn default() -> Self {
        Self {
            mode: Mode::Sandbox,
            graph_url: GRAPH_URL.into(),
            graph_token: Secret::new(""),
            workspace_url: String::new(),
            admin_token: Secret::new(""),
            reveal: false,
            error: None,
            last_run: None,
        }
    }
}

impl Welcome {
    pub fn update(&mut self, message: Message) {
        match message {
            Message::ModeSelected(mode) => self.mode = mode,
            Message::GraphUrlChanged(v) => self.graph_url = v,
            Message::GraphTokenChanged(v) => self.graph_token = v,
            Message::WorkspaceUrlChanged(v) => self.workspace_url = v,
            Message::AdminTokenChanged(v) => self.admin_token = v,
            Message::ToggleReveal => self.reveal = !self.reveal,
        }
    }

    /// Up/Down moves between the two choices.
    pub fn arrow(&mut self) {
        self.mode = match self.mode {
            Mode::Sandbox => Mode::Tenant,
            Mode::Tenant => Mode::Sandbox,
        };
    }

    /// The real tenant's endpoints, checked; errors appear under the field.
    pub fn tenant(&mut self) -> Option<Tenant> {
        self.error = None;
        let result = self.parse();
        match result {
            Ok(t) => Some(t),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    fn parse(&self) -> Result<Tenant, (Field, String)> {
        let graph_url = parse_url(&self.graph_url).map_err(|e| (Field::GraphUrl, e))?;
        let token = self.graph_token.expose().trim();
        if token.is_empty() {
            return Err((
                Field::GraphToken,
                "Paste an access token for Microsoft Graph (see the hint above).".into(),
            ));
        }
        let orchidea = match (self.workspace_url.trim(), self.admin_token.expose().trim()) {
            ("", "") => None,
            ("", _) => {
                return Err((
                    Field::WorkspaceUrl,
                    "Enter the workspace URL that goes with the admin API token.".into(),
                ));
            }
            (_, "") => {
                return Err((
                    Field::AdminToken,
                    "Paste Orchidea's admin API token, or clear the workspace URL to paste the SCIM secret by hand.".into(),
                ));
            }
            (url, admin) => Some((
                parse_url(url).map_err(|e| (Field::WorkspaceUrl, e))?,
                Secret::new(admin),
            )),
        };
        Ok(Tenant {
            graph_url,
            graph_token: Secret::new(token),
            orchidea,
        })
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
                "Configure the real tenant with a Microsoft Graph access token.",
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
            page = page.push(self.tenant_fields());
        }
        // The About text: Windows GUI builds have no console for --version.
        page.push(
            text(format!(
                "About: Orchidea SCIM Setup Wizard {}",
                crate::build_info::LONG_VERSION
            ))
            .size(12)
            .style(theme::muted),
        )
        .into()
    }

    fn tenant_fields(&self) -> Element<'_, Message> {
        let err = |f: Field| {
            self.error
                .as_ref()
                .filter(|(field, _)| *field == f)
                .map(|(_, e)| e.as_str())
        };
        column![
            text(
                "Get a Graph token as an Application Administrator, for example: \
                 az account get-access-token --resource-type ms-graph --query accessToken -o tsv"
            )
            .size(13)
            .style(theme::muted),
            widget::field(
                "Microsoft Graph endpoint",
                GRAPH_URL,
                &self.graph_url,
                Message::GraphUrlChanged,
                false,
                err(Field::GraphUrl),
            ),
            widget::secret_field(
                "Graph access token",
                "Paste the access token",
                self.graph_token.expose(),
                |s| Message::GraphTokenChanged(Secret::new(s)),
                self.reveal,
                Message::ToggleReveal,
                err(Field::GraphToken),
            ),
            text(
                "Optional: with Orchidea's admin API the wizard creates the SCIM secret \
                 itself. Leave both empty to paste a secret you create in Orchidea."
            )
            .size(13)
            .style(theme::muted),
            widget::field(
                "Orchidea workspace URL",
                "https://yourcompany.orchidea.example",
                &self.workspace_url,
                Message::WorkspaceUrlChanged,
                false,
                err(Field::WorkspaceUrl),
            ),
            widget::secret_field(
                "Orchidea admin API token",
                "Paste the admin API token",
                self.admin_token.expose(),
                |s| Message::AdminTokenChanged(Secret::new(s)),
                self.reveal,
                Message::ToggleReveal,
                err(Field::AdminToken),
            ),
        ]
        .spacing(12)
        .into()
    }
}

fn parse_url(value: &str) -> Result<Url, String> {
    match Url::parse(value.trim()) {
        Ok(url) if url.scheme() == "https" || url.host_str() == Some("127.0.0.1") => Ok(url),
        Ok(_) => Err("Use an https:// address.".into()),
        Err(e) => Err(format!("This is not a valid address ({e}). Use https://…")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_needs_a_graph_token_and_pairs_orchidea_fields() {
        let mut w = Welcome::default();
        w.update(Message::ModeSelected(Mode::Tenant));
        assert!(w.tenant().is_none());
        assert!(
            w.error
                .as_ref()
                .is_some_and(|(f, _)| *f == Field::GraphToken)
        );
        w.update(Message::GraphTokenChanged(Secret::new("eyJ0")));
        w.update(Message::WorkspaceUrlChanged(
            "https://acme.orchidea.example".into(),
        ));
        assert!(w.tenant().is_none(), "admin token missing");
        w.update(Message::AdminTokenChanged(Secret::new("adm")));
        let t = w.tenant().unwrap();
        assert_eq!(t.graph_url.as_str(), "https://graph.microsoft.com/v1.0");
        assert!(t.orchidea.is_some());
    }
}
