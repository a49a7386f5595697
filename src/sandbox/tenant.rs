//! The sandbox tenant file (`docs/sandbox-tenant.md`): users, groups, apps and assignments, plus the built-in Contoso tenant.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::SandboxError;
use crate::services::orchidea::Idp;

/// The built-in tenant: Contoso, 28 users, 3 groups, 4 apps.
const DEFAULT_TENANT: &str = include_str!("default-tenant.json");

/// A whole tenant file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantFile {
    pub tenant: TenantInfo,
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub service_principals: Vec<ServicePrincipal>,
    #[serde(default)]
    pub orchidea: OrchideaSettings,
    /// The admin the sandbox's Graph treats as signed in (`GET /me`): a user
    /// id or userPrincipalName. `None`: `/me` answers as for an app-only token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_user: Option<String>,
    /// Faults injected from the start (`docs/sandbox-tenant.md`, "Fault injection").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<super::faults::Fault>,
    /// How sign-in behaves (`docs/sandbox-tenant.md`, "Sign-in").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<super::login::SignInBehaviour>,
    /// The schema of template `scim` instead of the built-in one: a
    /// `synchronizationSchema` object, or (in the file) the path of a JSON
    /// file relative to the tenant file, which [`TenantFile::load`] reads in
    /// (`docs/sandbox-tenant.md`, "Replaying a schema").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_schema: Option<Value>,
    /// Milliseconds an app made by `instantiate` stays invisible to lists
    /// and answers 404 on its routes (`docs/sandbox-tenant.md`, "Replication delay").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_delay_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantInfo {
    /// The tenant (directory) id, a GUID.
    pub id: String,
    /// The verified domain, e.g. `contoso.com`.
    pub domain: String,
    pub display_name: String,
}

/// A user. Attributes beyond the named ones (`employeeId`, `city`, …) may be
/// given as extra string, number or boolean fields and are mapped by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    pub display_name: String,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default = "enabled")]
    pub account_enabled: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn enabled() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: String,
    /// User ids.
    #[serde(default)]
    pub members: Vec<String>,
}

/// Whether an app offers the SCIM provisioning template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provisioning {
    Scim,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    pub display_name: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub provisioning: Provisioning,
    #[serde(default)]
    pub assignments: Assignments,
    /// Its SAML settings and signing certificates (`entra::sso`).
    #[serde(default, skip_serializing_if = "super::entra::sso::SpSso::is_empty")]
    pub sso: super::entra::sso::SpSso,
    /// Tenant file only: SAML SSO already configured (`docs/sandbox-tenant.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<super::entra::sso::SamlPreset>,
}

/// Who is assigned to an app (default access role).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignments {
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Principal id → when `POST appRoleAssignedTo` assigned it (those from
    /// the tenant file have none and show a fixed date).
    #[serde(
        default,
        rename = "createdDateTime",
        skip_serializing_if = "std::collections::BTreeMap::is_empty"
    )]
    pub created: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrchideaSettings {
    #[serde(default)]
    pub workspace_name: Option<String>,
    #[serde(default)]
    pub idps: Option<Vec<Idp>>,
    /// `false`: Orchidea's SCIM serves no groups (`/Groups` answers 404 and
    /// `/ResourceTypes` lists no `Group`). Absent: it serves them.
    #[serde(default)]
    pub scim_groups: Option<bool>,
    /// Days each new SCIM secret lives (1–36500): it carries `expiresAt` and
    /// is refused once past it. Absent: secrets do not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_lifetime_days: Option<u32>,
}

message_error!(
    /// What is wrong inside a tenant file (`docs/sandbox-tenant.md`).
    TenantFileError
);

impl TenantFile {
    /// The built-in Contoso tenant.
    ///
    /// # Panics
    ///
    /// Never in practice: the embedded file is checked by a unit test.
    pub fn builtin() -> TenantFile {
        // The embedded file is checked by a unit test, so this cannot fail.
        serde_json::from_str(DEFAULT_TENANT).unwrap_or_else(|e| panic!("default-tenant.json: {e}"))
    }

    /// Reads and checks a tenant file.
    pub fn load(path: &Path) -> Result<TenantFile, SandboxError> {
        let fail = |detail: String| SandboxError::TenantFile {
            path: path.display().to_string(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let mut tenant: TenantFile =
            serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
        if let Some(Value::String(file)) = &tenant.template_schema {
            let base = path.parent().unwrap_or(Path::new("."));
            tenant.template_schema =
                Some(read_schema_file(&base.join(file)).map_err(|e| fail(e.0))?);
        }
        tenant.check().map_err(|e| fail(e.0))?;
        Ok(tenant)
    }

    /// Ids are GUIDs and unique; every reference points at something.
    pub fn check(&self) -> Result<(), TenantFileError> {
        let guid = |what: &str, id: &str| {
            uuid::Uuid::parse_str(id)
                .map(drop)
                .map_err(|_| TenantFileError(format!("{what} id \"{id}\" is not a GUID")))
        };
        guid("the tenant", &self.tenant.id)?;
        let mut seen = HashSet::new();
        let mut unique = |what: &str, id: &str| {
            guid(what, id)?;
            if seen.insert(id.to_ascii_lowercase()) {
                Ok(())
            } else {
                Err(TenantFileError(format!("the id \"{id}\" is used twice")))
            }
        };
        let mut upns = HashSet::new();
        for u in &self.users {
            unique("user", &u.id)?;
            if !upns.insert(u.user_principal_name.to_ascii_lowercase()) {
                return Err(format!(
                    "the userPrincipalName \"{}\" is used twice",
                    u.user_principal_name
                )
                .into());
            }
            for (key, value) in &u.extra {
                if value.is_array() || value.is_object() {
                    return Err(format!(
                        "user {}: attribute \"{key}\" must be a string, number or boolean",
                        u.id
                    )
                    .into());
                }
            }
        }
        for g in &self.groups {
            unique("group", &g.id)?;
        }
        for sp in &self.service_principals {
            unique("service principal", &sp.id)?;
            guid("appId of a service principal", &sp.app_id)?;
        }
        super::entra::sso::check_presets(&self.service_principals).map_err(TenantFileError)?;
        let user_ids: HashSet<&str> = self.users.iter().map(|u| u.id.as_str()).collect();
        let group_ids: HashSet<&str> = self.groups.iter().map(|g| g.id.as_str()).collect();
        for g in &self.groups {
            if let Some(m) = g.members.iter().find(|m| !user_ids.contains(m.as_str())) {
                return Err(
                    format!("group \"{}\" lists an unknown user {m}", g.display_name).into(),
                );
            }
        }
        for sp in &self.service_principals {
            let a = &sp.assignments;
            if let Some(u) = a.users.iter().find(|u| !user_ids.contains(u.as_str())) {
                return Err(
                    format!("app \"{}\" assigns an unknown user {u}", sp.display_name).into(),
                );
            }
            if let Some(g) = a.groups.iter().find(|g| !group_ids.contains(g.as_str())) {
                return Err(
                    format!("app \"{}\" assigns an unknown group {g}", sp.display_name).into(),
                );
            }
        }
        if let Some(me) = &self.signed_in_user
            && self.user(me).is_none()
        {
            return Err(format!(
                "signedInUser \"{me}\" is not the id or userPrincipalName of a user in the file"
            )
            .into());
        }
        if let Some(schema) = &self.template_schema {
            check_template_schema(schema)?;
        }
        if let Some(days) = self.orchidea.secret_lifetime_days
            && !(1..=36_500).contains(&days)
        {
            return Err(format!(
                "orchidea.secretLifetimeDays is {days}: it must be a whole number of days from 1 to 36500"
            )
            .into());
        }
        Ok(())
    }

    /// A user by id or userPrincipalName (case-insensitive).
    pub fn user(&self, id_or_upn: &str) -> Option<&User> {
        self.users.iter().find(|u| u.is(id_or_upn))
    }
}

/// A `templateSchema` file: JSON, read as it is.
fn read_schema_file(path: &Path) -> Result<Value, TenantFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "templateSchema: the file {} cannot be read: {e}",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        TenantFileError(format!(
            "templateSchema: the file {} is not JSON: {e}",
            path.display()
        ))
    })
}

/// A template schema must be one the sandbox's schema PUT would accept: a
/// whole `synchronizationSchema` object (a path was read in by `load`).
fn check_template_schema(schema: &Value) -> Result<(), TenantFileError> {
    match schema {
        Value::Object(_) => super::entra::mappings::check_schema(schema)
            .map_err(|e| {
                TenantFileError(format!(
                    "templateSchema is not a usable synchronizationSchema: {e}"
                ))
            }),
        Value::String(path) => Err(format!(
            "templateSchema \"{path}\" is a path, which only a tenant file read from disk can resolve"
        ).into()),
        _ => Err(
            "templateSchema must be a synchronizationSchema object or the path of a JSON file holding one"
                .into(),
        ),
    }
}

impl User {
    /// True when `id_or_upn` is this user's id or userPrincipalName (case-insensitive).
    pub fn is(&self, id_or_upn: &str) -> bool {
        self.id.eq_ignore_ascii_case(id_or_upn)
            || self.user_principal_name.eq_ignore_ascii_case(id_or_upn)
    }

    /// A source attribute by its Entra name, case-insensitively, as the sync
    /// engine reads it: booleans as `"True"`/`"False"`, absent as null.
    pub fn attribute(&self, name: &str) -> Option<String> {
        match name.to_ascii_lowercase().as_str() {
            "objectid" | "id" => Some(self.id.clone()),
            "userprincipalname" => Some(self.user_principal_name.clone()),
            "mail" => self.mail.clone(),
            "givenname" => self.given_name.clone(),
            "surname" => self.surname.clone(),
            "displayname" => Some(self.display_name.clone()),
            "jobtitle" => self.job_title.clone(),
            "mailnickname" => self.mail_nickname.clone(),
            "department" => self.department.clone(),
            "accountenabled" => Some(super::expression::bool_text(self.account_enabled)),
            _ => self.extra_attribute(name),
        }
    }

    fn extra_attribute(&self, name: &str) -> Option<String> {
        let (_, value) = self
            .extra
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(super::expression::bool_text(*b)),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The user as Graph returns it with every property selected.
    pub fn to_graph(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl ServicePrincipal {
    pub fn can_provision(&self) -> bool {
        self.provisioning == Provisioning::Scim
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_lifetime_must_be_a_positive_number_of_days() {
        let mut t = TenantFile::builtin();
        t.orchidea.secret_lifetime_days = Some(20);
        t.check().unwrap();
        t.orchidea.secret_lifetime_days = Some(0);
        let e = t.check().unwrap_err();
        assert!(e.0.contains("secretLifetimeDays is 0"), "{}", e.0);
        let bad: Result<OrchideaSettings, _> =
            serde_json::from_str(r#"{"secretLifetimeDays": -3}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn builtin_tenant_is_valid_and_has_what_the_docs_promise() {
        let t = TenantFile::builtin();
        t.check().unwrap();
        assert!(t.users.len() >= 25);
        assert_eq!(t.users.iter().filter(|u| u.mail.is_none()).count(), 3);
        assert_eq!(t.users.iter().filter(|u| !u.account_enabled).count(), 1);
        let orchidea = t
            .service_principals
            .iter()
            .find(|s| s.display_name == "Orchidea")
            .unwrap();
        assert!(orchidea.can_provision());
        let oidc = t
            .service_principals
            .iter()
            .find(|s| s.display_name.starts_with("Orchidea (OIDC"))
            .unwrap();
        assert!(!oidc.can_provision());
        let team = t
            .groups
            .iter()
            .find(|g| g.display_name == "Innovation Team")
            .unwrap();
        assert_eq!(orchidea.assignments.groups, std::slice::from_ref(&team.id));
        let me = t.user(t.signed_in_user.as_deref().unwrap()).unwrap();
        assert!(me.mail.is_some(), "the signed-in admin has a mail");
        let assigned_directly = orchidea.assignments.users.contains(&me.id);
        let in_team = team.members.contains(&me.id);
        assert!(
            !assigned_directly && !in_team,
            "the admin is not in Orchidea's scope"
        );
    }

    #[test]
    fn attributes_are_read_case_insensitively_with_extras() {
        let mut u = TenantFile::builtin().users[0].clone();
        u.extra.insert("employeeId".into(), Value::from(1234));
        u.extra.insert("isContractor".into(), Value::from(false));
        assert_eq!(u.attribute("objectId").as_deref(), Some(u.id.as_str()));
        assert_eq!(
            u.attribute("UserPrincipalName"),
            Some(u.user_principal_name.clone())
        );
        assert_eq!(u.attribute("accountEnabled").as_deref(), Some("True"));
        assert_eq!(u.attribute("EMPLOYEEID").as_deref(), Some("1234"));
        assert_eq!(u.attribute("isContractor").as_deref(), Some("False"));
        assert_eq!(u.attribute("city"), None);
    }

    #[test]
    fn check_names_the_broken_reference() {
        let mut t = TenantFile::builtin();
        t.groups[0]
            .members
            .push("00000000-0000-0000-0000-00000000dead".into());
        assert!(t.check().unwrap_err().to_string().contains("unknown user"));
        let mut t = TenantFile::builtin();
        t.users[1].id = t.users[0].id.clone();
        assert!(t.check().unwrap_err().to_string().contains("twice"));
        let mut t = TenantFile::builtin();
        t.service_principals[0].id = "not-a-guid".into();
        assert!(t.check().unwrap_err().to_string().contains("not a GUID"));
        let mut t = TenantFile::builtin();
        t.signed_in_user = Some("nobody@contoso.com".into());
        assert!(t.check().unwrap_err().to_string().contains("signedInUser"));
    }

    #[test]
    fn template_schema_is_read_from_a_path_beside_the_file_or_refused() {
        let dir = std::env::temp_dir().join(format!("tenant-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("exports")).unwrap();
        let schema = super::super::entra::mappings::template_schema().clone();
        std::fs::write(dir.join("exports/s.json"), schema.to_string()).unwrap();
        let mut tenant: Value = serde_json::from_str(DEFAULT_TENANT).unwrap();
        tenant["templateSchema"] = Value::from("exports/s.json");
        let path = dir.join("t.json");
        std::fs::write(&path, tenant.to_string()).unwrap();
        let loaded = TenantFile::load(&path).unwrap();
        assert_eq!(loaded.template_schema, Some(schema.clone()));

        let mut refused = |value: Value, want: &str| {
            tenant["templateSchema"] = value;
            std::fs::write(&path, tenant.to_string()).unwrap();
            let err = TenantFile::load(&path).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("t.json"), "{err}");
        };
        refused(Value::from("exports/missing.json"), "cannot be read");
        std::fs::write(dir.join("exports/bad.json"), "{\"synchronizationRules\": [").unwrap();
        refused(Value::from("exports/bad.json"), "is not JSON");
        refused(Value::from(7), "must be a synchronizationSchema object");
        let mut partial = schema.clone();
        partial.as_object_mut().unwrap().remove("directories");
        refused(partial, "'directories' is missing");
        let recased = serde_json::from_str(&schema.to_string().replacen(
            "\"FlowWhenChanged\"",
            "\"flowWhenChanged\"",
            1,
        ))
        .unwrap();
        refused(recased, "flowWhenChanged");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn load_reports_the_path() {
        let dir = std::env::temp_dir().join(format!("tenant-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.json");
        std::fs::write(&path, "{\"tenant\":1}").unwrap();
        let err = TenantFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("t.json"), "{err}");
        std::fs::write(&path, DEFAULT_TENANT).unwrap();
        assert_eq!(TenantFile::load(&path).unwrap(), TenantFile::builtin());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
