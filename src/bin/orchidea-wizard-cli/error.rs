//! What ends a command with exit code 2: the CLI's own refusals, and the
//! library's errors carried as they are (their messages are the user's).

use std::fmt::Display;
use std::path::PathBuf;

use orchidea_wizard::engine::EngineError;
use orchidea_wizard::sandbox::SandboxError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// A library call whose error is shown as it reads (sign-in, settings,
    /// Orchidea, report files, the bench harness).
    #[error("{0}")]
    Library(String),
    /// A secret with neither its environment variable nor a terminal.
    #[error("{var} is not set and there is no terminal to ask on. Set {var}.")]
    NoTerminal { var: String },
    /// Device code refused by the tenant's policy: the CLI's way around it.
    #[error("{0} On the command line, add --browser.")]
    DeviceCodeBlocked(orchidea_wizard::services::signin::SignInError),
    #[error("could not read the secret: {0}")]
    ReadSecret(std::io::Error),
    #[error(
        "give --scim-url (secret created in Orchidea's web UI) or --orchidea-url (admin API), or use --sandbox"
    )]
    NoOrchideaAccess,
    /// The account may not configure provisioning (the role check's message).
    #[error("{0}")]
    Refused(String),
    #[error(
        "No remembered sign-in for tenant {tenant} ({cloud}). Sign in first: `orchidea-wizard-cli signin --tenant {tenant}{flags} --remember`."
    )]
    NotRemembered {
        tenant: String,
        cloud: String,
        /// The flags that key the remembered sign-in besides the tenant
        /// (`--cloud`, `--login-url`), so the sign-in is kept where the
        /// run looks for it.
        flags: String,
    },
    #[error(
        "No remembered Orchidea admin token for {0}. Keep one first: `orchidea-wizard-cli signin --tenant … --orchidea-url {0} --remember`."
    )]
    NoRememberedOrchideaToken(String),
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error("could not write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("No backup \"{0}\" for this tenant. List them with `orchidea-wizard-cli restore`.")]
    NoBackup(String),
    #[error("\"{id}\" matches {count} backups; give more of the id.")]
    AmbiguousBackup { id: String, count: usize },
    #[error("No user's name, mail or user principal name starts with \"{0}\".")]
    NoUser(String),
    #[error(
        "{count} users match \"{query}\": {names}. Give the mail or user principal name of one."
    )]
    ManyUsers {
        count: usize,
        query: String,
        names: String,
    },
    #[error(transparent)]
    Mappings(#[from] crate::mappings::MappingsError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("bench-provision printed no figures: {0}")]
    NoFigures(String),
}

impl CliError {
    /// Carries a library error by its message. Generic so it serves the
    /// `String` errors of today and the typed ones that replace them.
    pub fn lib(e: impl Display) -> Self {
        CliError::Library(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages the CLI printed before it had this type, word for word.
    #[test]
    fn messages_read_as_before() {
        let cases = [
            (
                CliError::NoTerminal {
                    var: "ORCHIDEA_SCIM_SECRET".into(),
                },
                "ORCHIDEA_SCIM_SECRET is not set and there is no terminal to ask on. Set ORCHIDEA_SCIM_SECRET.",
            ),
            (
                CliError::NoOrchideaAccess,
                "give --scim-url (secret created in Orchidea's web UI) or --orchidea-url (admin API), or use --sandbox",
            ),
            (
                CliError::NoBackup("2026".into()),
                "No backup \"2026\" for this tenant. List them with `orchidea-wizard-cli restore`.",
            ),
            (
                CliError::AmbiguousBackup {
                    id: "2026".into(),
                    count: 3,
                },
                "\"2026\" matches 3 backups; give more of the id.",
            ),
            (
                CliError::Write {
                    path: "out.json".into(),
                    source: std::io::Error::other("disk full"),
                },
                "could not write out.json: disk full",
            ),
            (
                CliError::NoFigures("boom".into()),
                "bench-provision printed no figures: boom",
            ),
            (CliError::lib("as it reads"), "as it reads"),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
