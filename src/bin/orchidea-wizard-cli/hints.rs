//! The CLI's own words next to the engine's: the engine says what to do in
//! terms that fit the window and the CLI alike; here the CLI names the flag.

use orchidea_wizard::engine::{EngineError, NO_MAIL_FOR_NOTIFICATIONS};

/// The flag that does what `err` asks for, when there is one.
pub fn hint(err: &EngineError) -> Option<&'static str> {
    match err {
        EngineError::NoApp { .. } => Some("To let the wizard create it: --create-app."),
        EngineError::AmbiguousApp { .. } => Some("Choose one with --app-id ID."),
        EngineError::CreatedAppUnseen { .. } => {
            Some("To create another app anyway: --create-app-again.")
        }
        EngineError::SsoReplyUrlNeeded { .. } => {
            Some("Then run again with --with-sso --reply-url URL (or ORCHIDEA_SAML_REPLY_URL=URL).")
        }
        EngineError::SsoWorkspaceUrlNeeded => {
            Some("Give it with --workspace-url URL (with the admin API, --orchidea-url is used).")
        }
        _ => None,
    }
}

/// The line printed when a run stops: the error, then the flag on its own
/// line when there is one.
pub fn stopped(err: &EngineError) -> String {
    match hint(err) {
        Some(hint) => format!("stopped: {err}\n{hint}"),
        None => format!("stopped: {err}"),
    }
}

/// Step 0's line when the wizard only checked it: the flag that lets it do it.
pub fn sso_not_asked(status: &orchidea_wizard::Status) -> Option<&'static str> {
    matches!(status, orchidea_wizard::Status::Manual(_))
        .then_some("To let the wizard set it up: --with-sso.")
}

/// A warning as the CLI prints it, with the flag it points to.
pub fn warning(text: &str) -> String {
    if text.starts_with(NO_MAIL_FOR_NOTIFICATIONS) {
        format!("{text} (--notify-email)")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_are_named_by_the_cli() {
        let err = EngineError::AmbiguousApp {
            names: "\"A\" (1), \"B\" (2)".into(),
        };
        assert!(!err.to_string().contains("--app-id"), "{err}");
        assert!(stopped(&err).ends_with("\nChoose one with --app-id ID."));
        let none = EngineError::NoApp {
            name: "Orchidea".into(),
        };
        assert!(stopped(&none).contains("--create-app"));
        let warn = format!("{NO_MAIL_FOR_NOTIFICATIONS} (Graph answered 403). Type one …");
        assert!(warning(&warn).ends_with("(--notify-email)"));
        let sso = EngineError::SsoReplyUrlNeeded { metadata: None };
        assert!(!sso.to_string().contains("--"), "{sso}");
        assert!(stopped(&sso).ends_with("--reply-url URL (or ORCHIDEA_SAML_REPLY_URL=URL)."));
        assert!(sso_not_asked(&orchidea_wizard::Status::Manual("x".into())).is_some());
        assert!(sso_not_asked(&orchidea_wizard::Status::AlreadyDone("x".into())).is_none());
        assert_eq!(warning("other"), "other");
    }
}
