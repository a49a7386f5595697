//! What can stop a run, in words an admin can act on.

use crate::procedure::mapping::MappingError;
use crate::procedure::step::StepId;
use crate::services::graph::GraphError;
use crate::services::orchidea::OrchideaError;

/// How [`EngineError::SchemaChanged`] begins: the mappings screen looks
/// for it in step 9's failure to say why the diff it shows is new.
pub const SCHEMA_CHANGED: &str = "Someone changed the mappings in Entra since you reviewed them";

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Orchidea(#[from] OrchideaError),
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error("The SCIM endpoint did not pass the pre-flight check: {cause} {fix}")]
    Probe { cause: String, fix: String },
    #[error(
        "No enterprise application whose name starts with \"{name}\" was found. Create the Orchidea SSO app first, or let the wizard create one."
    )]
    NoApp { name: String },
    #[error(
        "\"{name}\" cannot provision users: {reason} Pick the Orchidea enterprise application (Enterprise applications, not App registrations)."
    )]
    AppCannotProvision { name: String, reason: String },
    #[error(
        "Several enterprise applications can provision: {names}. Choose one of them by its id."
    )]
    AmbiguousApp { names: String },
    #[error(
        "The application offers no SCIM provisioning template (found: {found}). It cannot be set to Automatic provisioning."
    )]
    NoScimTemplate { found: String },
    #[error(
        "Entra created \"{name}\" ({id}) but has not shown it to the wizard within {waited_s} s: new objects take a while to replicate across Entra's data centers. Run again in a few minutes: the wizard finds the app and does not create another."
    )]
    NotReplicated {
        name: String,
        id: String,
        waited_s: u64,
    },
    #[error(
        "Entra did not answer when the wizard created \"{name}\" ({cause}), and no new app of that name appeared within {waited_s} s. So that there is never a second app, the wizard does not create it again: look for \"{name}\" under Enterprise applications in the Entra admin center, then run again (the wizard uses it if it is there, and creates it otherwise)."
    )]
    CreateUnconfirmed {
        name: String,
        cause: String,
        waited_s: u64,
    },
    #[error(
        "An earlier run created {app} at {at}, and Entra still does not show it after {waited_s} s: new apps can take a while to replicate. So that there is never a second app, the wizard does not create another: run again later, and it uses that app once Entra shows it. If the app was deleted, or you want a new one anyway, ask the wizard to create another app anyway."
    )]
    CreatedAppUnseen {
        app: String,
        at: String,
        waited_s: u64,
    },
    #[error(
        "Entra did not answer the on-demand provisioning of {user} ({cause}); it may have run anyway. The wizard does not send it again on its own: look for {user} in the provisioning logs (step 16) or in Orchidea, then provision again only if it is not there."
    )]
    OnDemandUnconfirmed { user: String, cause: String },
    #[error("Step {step} needs step {needs} first.")]
    Prerequisite {
        step: &'static str,
        needs: &'static str,
    },
    #[error(
        "Saving the scope and notification settings needs the SCIM secret again: Graph replaces the whole credential set and never returns the saved secret. Create a new secret or paste the current one, then retry."
    )]
    SecretNeeded,
    #[error("Graph accepted the change but reading it back shows something else: {0}")]
    NotPersisted(String),
    /// The schema changed in Entra between the diff the admin confirmed
    /// and the write (another admin): nothing was written; `0` is the diff
    /// against what Entra holds now.
    #[error(
        "Someone changed the mappings in Entra since you reviewed them; nothing was written. The changes were computed again from what Entra holds now: review them and confirm again."
    )]
    SchemaChanged(Vec<String>),
    #[error("Stopped before step {}: not confirmed.", .0.number())]
    NotConfirmed(StepId),
    /// Step 0 on the manual path: Entra's half is done and its federation
    /// metadata saved at `metadata`; Orchidea's "+ Add new IDP" is the
    /// admin's, and its reply URL is needed to finish (the message is the
    /// whole guide: the window and the CLI show it as it is).
    #[error("{}", crate::engine::sso_guide::reply_url_needed(.metadata.as_deref()))]
    SsoReplyUrlNeeded {
        metadata: Option<std::path::PathBuf>,
    },
    /// Step 0 needs the Orchidea workspace's home for the Sign on URL.
    #[error(
        "Setting up single sign-on needs the address of your Orchidea workspace (its home page, e.g. https://app.orchidea.dev/<workspace>): it is the app's Sign on URL."
    )]
    SsoWorkspaceUrlNeeded,
    /// Something the admin typed or chose cannot be used; the text says why.
    #[error("{0}")]
    Input(String),
    #[error(
        "Undo stopped at action {number} ({action}): {cause} The {done} actions before it are done; undo again to finish: it checks each action and skips what is already done."
    )]
    UndoStopped {
        number: usize,
        action: String,
        done: usize,
        cause: Box<EngineError>,
    },
    /// Rotation stopped at stage `number`; `after` says what still holds
    /// (the old secret always still works).
    #[error("Rotation stopped at stage {number} of 6 ({title}): {cause} {after}")]
    RotateStopped {
        number: usize,
        title: &'static str,
        after: &'static str,
        cause: Box<EngineError>,
    },
}

impl EngineError {
    /// One line for the checklist.
    pub fn summary(&self) -> String {
        let s = self.to_string();
        match s.split_once(". ") {
            Some((first, _)) if first.len() > 30 => format!("{first}."),
            _ => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_schema_reads_as_the_screen_expects() {
        let e = EngineError::SchemaChanged(vec!["~ userName: source a → b".into()]);
        assert!(e.to_string().starts_with(SCHEMA_CHANGED), "{e}");
    }
}
