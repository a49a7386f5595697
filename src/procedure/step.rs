//! The procedure's steps as data, numbered as Orchidea's knowledge-base
//! article numbers them.
//!
//! Orchidea's article numbers its steps 1–16 with 1a–1c as sub-steps; the
//! wizard keeps that numbering so an admin can hold the article next to it.
//! Step 0 is Orchidea's other article, the SAML single sign-on integration
//! the SCIM article takes for granted.

use serde::{Deserialize, Serialize};

/// One step of Orchidea's knowledge-base article on SCIM with Entra ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StepId {
    SsoIntegration,
    CreateSecret,
    ChooseIdp,
    CopyUrlAndSecret,
    OpenEnterpriseApp,
    OpenProvisioning,
    AutomaticMode,
    TestConnection,
    SaveCredentials,
    OpenMappings,
    OpenUserMapping,
    KeepFiveAttributes,
    EditUserName,
    UserNameFromMail,
    EditExternalId,
    ExternalIdFromObjectId,
    ChooseScope,
    SaveSettings,
    StartProvisioning,
}

/// The article's steps in six groups. Every layer is split the same way:
/// `engine/steps/`, `services/graph/`, the sandbox and the window's screens
/// each have a file per group, so "step 5" is `credentials.rs` in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StepGroup {
    /// 0: the SAML single sign-on integration (Orchidea's SSO article).
    Sso,
    /// 1a–1c, in Orchidea: the SCIM secret, the IDP for new users, URL and secret.
    Secret,
    /// 2: the Orchidea enterprise application in Entra.
    App,
    /// 3–6: automatic provisioning, Tenant URL and Secret Token, Test Connection, save.
    Credentials,
    /// 7–13: the user attribute mappings.
    Mappings,
    /// 14–15: who is provisioned, and saving the settings.
    Scope,
    /// 16: starting the provisioning job.
    Start,
}

impl StepGroup {
    pub const ALL: [StepGroup; 7] = [
        StepGroup::Sso,
        StepGroup::Secret,
        StepGroup::App,
        StepGroup::Credentials,
        StepGroup::Mappings,
        StepGroup::Scope,
        StepGroup::Start,
    ];

    /// The steps of this group, in the article's order.
    pub fn steps(self) -> Vec<StepId> {
        StepId::ALL
            .into_iter()
            .filter(|s| s.group() == self)
            .collect()
    }

    /// The file name every layer uses for this group.
    pub fn name(self) -> &'static str {
        match self {
            StepGroup::Sso => "sso",
            StepGroup::Secret => "secret",
            StepGroup::App => "app",
            StepGroup::Credentials => "credentials",
            StepGroup::Mappings => "mappings",
            StepGroup::Scope => "scope",
            StepGroup::Start => "start",
        }
    }
}

/// Where the step happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Console {
    Orchidea,
    Entra,
}

impl StepId {
    pub const ALL: [StepId; 19] = [
        StepId::SsoIntegration,
        StepId::CreateSecret,
        StepId::ChooseIdp,
        StepId::CopyUrlAndSecret,
        StepId::OpenEnterpriseApp,
        StepId::OpenProvisioning,
        StepId::AutomaticMode,
        StepId::TestConnection,
        StepId::SaveCredentials,
        StepId::OpenMappings,
        StepId::OpenUserMapping,
        StepId::KeepFiveAttributes,
        StepId::EditUserName,
        StepId::UserNameFromMail,
        StepId::EditExternalId,
        StepId::ExternalIdFromObjectId,
        StepId::ChooseScope,
        StepId::SaveSettings,
        StepId::StartProvisioning,
    ];

    /// Position in [`StepId::ALL`].
    pub fn index(self) -> usize {
        position(&Self::ALL, self)
    }

    pub fn next(self) -> Option<StepId> {
        neighbour(&Self::ALL, self, 1)
    }

    pub fn previous(self) -> Option<StepId> {
        neighbour(&Self::ALL, self, -1)
    }

    /// The article's number: "1a" … "16".
    pub fn number(self) -> &'static str {
        self.info().0
    }

    /// Short title for the checklist.
    pub fn title(self) -> &'static str {
        self.info().1
    }

    /// What the article tells the admin to do by hand.
    pub fn instruction(self) -> &'static str {
        self.info().2
    }

    /// What the wizard does instead.
    pub fn automation(self) -> &'static str {
        self.info().3
    }

    /// Parses "1a", "5", "16".
    pub fn from_number(n: &str) -> Option<StepId> {
        Self::ALL.into_iter().find(|s| s.number() == n.trim())
    }

    /// The group this step belongs to.
    pub fn group(self) -> StepGroup {
        use StepId::{
            AutomaticMode, ChooseIdp, ChooseScope, CopyUrlAndSecret, CreateSecret, EditExternalId,
            EditUserName, ExternalIdFromObjectId, KeepFiveAttributes, OpenEnterpriseApp,
            OpenMappings, OpenProvisioning, OpenUserMapping, SaveCredentials, SaveSettings,
            SsoIntegration, StartProvisioning, TestConnection, UserNameFromMail,
        };
        match self {
            SsoIntegration => StepGroup::Sso,
            CreateSecret | ChooseIdp | CopyUrlAndSecret => StepGroup::Secret,
            OpenEnterpriseApp => StepGroup::App,
            OpenProvisioning | AutomaticMode | TestConnection | SaveCredentials => {
                StepGroup::Credentials
            }
            OpenMappings
            | OpenUserMapping
            | KeepFiveAttributes
            | EditUserName
            | UserNameFromMail
            | EditExternalId
            | ExternalIdFromObjectId => StepGroup::Mappings,
            ChooseScope | SaveSettings => StepGroup::Scope,
            StartProvisioning => StepGroup::Start,
        }
    }

    pub fn console(self) -> Console {
        match self {
            StepId::CreateSecret | StepId::ChooseIdp | StepId::CopyUrlAndSecret => {
                Console::Orchidea
            }
            _ => Console::Entra,
        }
    }

    fn info(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            StepId::SsoIntegration => (
                "0",
                "Set up single sign-on (SAML)",
                "Follow Orchidea's SSO article: in Entra create the Orchidea app (non-gallery), set up SAML with Identifier https://orchidea.dev, the Reply URL and the Sign on URL, and add a signing certificate; in Orchidea add a new IDP from Entra's federation metadata, then paste its reply URL back into Entra.",
                "Skipped when an Orchidea app with SAML single sign-on exists. Otherwise, when you agree, creates or completes the app, adds a signing certificate, creates the IDP in Orchidea from the federation metadata (or guides you through it) and sets Orchidea's reply URL.",
            ),
            StepId::CreateSecret => (
                "1a",
                "Create a SCIM secret",
                "In Orchidea, go to workspace admin → User management → SCIM and click \"Create new SCIM secret\".",
                "Reuses the secret Entra already holds if it still works; otherwise creates one through Orchidea's admin API, or takes the one you created in Orchidea's web UI and verifies it.",
            ),
            StepId::ChooseIdp => (
                "1b",
                "Choose the IDP for new users",
                "Select in \"Chosen IDP\" the IDP Orchidea assigns to users created through SCIM.",
                "Lists the workspace's IDPs and creates the secret for the one you chose (Microsoft Entra ID by default).",
            ),
            StepId::CopyUrlAndSecret => (
                "1c",
                "Copy the SCIM URL and secret",
                "Copy both the SCIM URL and the SCIM secret to your notes.",
                "Keeps them in memory only (copy buttons clear the clipboard after 60 s) and probes the SCIM endpoint exactly as Entra's Test Connection will.",
            ),
            StepId::OpenEnterpriseApp => (
                "2",
                "Open the Orchidea enterprise app",
                "In the Microsoft Entra admin center open Applications → Enterprise applications and click the Orchidea SSO app.",
                "Searches the tenant's service principals and checks each can provision (it offers a SCIM template); creates one from the non-gallery template if none exists.",
            ),
            StepId::OpenProvisioning => (
                "3",
                "Open Provisioning",
                "Open Provisioning.",
                "Reads the app's synchronization templates and existing jobs.",
            ),
            StepId::AutomaticMode => (
                "4",
                "Set provisioning mode to Automatic",
                "Select Automatic in Provisioning mode.",
                "Creates the provisioning job from the \"scim\" template, unless one already exists.",
            ),
            StepId::TestConnection => (
                "5",
                "Tenant URL, Secret Token, Test Connection",
                "Fill the SCIM URL into Tenant URL and the SCIM secret into Secret Token, then click Test Connection.",
                "Calls Entra's validateCredentials with the SCIM URL and secret and explains any failure.",
            ),
            StepId::SaveCredentials => (
                "6",
                "Save the credentials",
                "Save the credentials.",
                "Saves BaseAddress and SecretToken, keeping every other provisioning setting already there.",
            ),
            StepId::OpenMappings => (
                "7",
                "Open Mappings",
                "Open Mappings.",
                "Reads the job's synchronization schema.",
            ),
            StepId::OpenUserMapping => (
                "8",
                "Open the user mapping",
                "Click \"Provision Microsoft Entra ID Users\".",
                "Finds the user mapping by its source and target objects (older tenants name it differently).",
            ),
            StepId::KeepFiveAttributes => (
                "9",
                "Keep only five attributes",
                "Delete all attribute mappings except userName, externalId, active, name.givenName and name.familyName.",
                "Removes the other attribute mappings from the user mapping only.",
            ),
            StepId::EditUserName => (
                "10",
                "Edit userName",
                "Edit the userName attribute.",
                "Locates the userName mapping.",
            ),
            StepId::UserNameFromMail => (
                "11",
                "userName ← mail",
                "Change the Source attribute to \"mail\" and click Ok.",
                "Sets userName's source to mail, keeping it the first matching attribute.",
            ),
            StepId::EditExternalId => (
                "12",
                "Edit externalId",
                "Edit the externalId attribute.",
                "Locates the externalId mapping.",
            ),
            StepId::ExternalIdFromObjectId => (
                "13",
                "externalId ← objectId, matching precedence 2",
                "Change Source attribute to \"objectId\", Match objects using this attribute to Yes, Matching precedence to 2, click Ok.",
                "Sets externalId's source to objectId with matching precedence 2, then writes the whole schema once and reads it back.",
            ),
            StepId::ChooseScope => (
                "14",
                "Choose the scope",
                "In Settings choose \"Sync only assigned users and groups\" or \"Sync all users and groups\".",
                "Uses the scope you chose (assigned users and groups by default).",
            ),
            StepId::SaveSettings => (
                "15",
                "Save the settings",
                "Save the SCIM settings.",
                "Saves the scope (SyncAll) with every other provisioning setting kept.",
            ),
            StepId::StartProvisioning => (
                "16",
                "Start provisioning",
                "Start provisioning.",
                "Starts the provisioning job and reads its status back.",
            ),
        }
    }
}

/// Where `item` stands in an ordered list (0 if absent): navigation as data.
pub fn position<T: Copy + PartialEq>(all: &[T], item: T) -> usize {
    all.iter().position(|x| *x == item).unwrap_or_default()
}

/// The entry `offset` places from `item` in `all`, if there is one.
pub fn neighbour<T: Copy + PartialEq>(all: &[T], item: T, offset: isize) -> Option<T> {
    position(all, item)
        .checked_add_signed(offset)
        .and_then(|i| all.get(i).copied())
}

impl std::fmt::Display for StepId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.number(), self.title())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_follows_the_article() {
        let numbers: Vec<_> = StepId::ALL.iter().map(|s| s.number()).collect();
        assert_eq!(
            numbers,
            [
                "0", "1a", "1b", "1c", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
                "13", "14", "15", "16"
            ]
        );
    }

    #[test]
    fn navigation_is_data() {
        assert_eq!(StepId::SsoIntegration.previous(), None);
        assert_eq!(
            StepId::CreateSecret.previous(),
            Some(StepId::SsoIntegration)
        );
        assert_eq!(StepId::CreateSecret.next(), Some(StepId::ChooseIdp));
        assert_eq!(StepId::StartProvisioning.next(), None);
        for (i, s) in StepId::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(StepId::from_number(s.number()), Some(*s));
            assert!(!s.instruction().is_empty() && !s.automation().is_empty());
        }
    }

    #[test]
    fn groups_cover_every_step_once_in_order() {
        let grouped: Vec<StepId> = StepGroup::ALL
            .into_iter()
            .flat_map(StepGroup::steps)
            .collect();
        assert_eq!(grouped, StepId::ALL);
        assert_eq!(StepId::TestConnection.group().name(), "credentials");
        assert_eq!(
            StepId::from_number("5").map(StepId::group),
            Some(StepGroup::Credentials)
        );
        assert_eq!(
            StepId::from_number("16").map(StepId::group),
            Some(StepGroup::Start)
        );
    }

    #[test]
    fn neighbours_stop_at_the_ends() {
        let all = [1, 2, 3];
        assert_eq!(neighbour(&all, 1, -1), None);
        assert_eq!(neighbour(&all, 2, 1), Some(3));
        assert_eq!(neighbour(&all, 3, 1), None);
        assert_eq!(position(&all, 3), 2);
    }

    #[test]
    fn consoles() {
        assert_eq!(StepId::CopyUrlAndSecret.console(), Console::Orchidea);
        assert_eq!(StepId::OpenEnterpriseApp.console(), Console::Entra);
    }
}
