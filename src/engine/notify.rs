//! Notification e-mail and accidental-deletion threshold: the
//! `SyncNotificationSettings` secret key, a JSON document inside a string
//! (Microsoft's v1.0 example shows only `Enabled` and `DeleteThresholdEnabled`;
//! `Recipients` and `DeleteThresholdValue` come from published exports of
//! real tenants' secrets, so they are assumed: docs/graph-fidelity.md).

use serde::{Deserialize, Serialize};
use serde_json::json;

/// The threshold Entra's portal suggests and the wizard proposes.
pub const DEFAULT_DELETE_THRESHOLD: u32 = 500;

/// How the warning begins when the admin's mail could not be read for the
/// default notification address: the CLI recognises it to name its flag.
pub const NO_MAIL_FOR_NOTIFICATIONS: &str =
    "Could not read your e-mail address for failure notifications";

/// What step 15 saves beside the scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifications {
    /// Who gets the failure and quarantine e-mails; `None` sends none.
    pub email: Option<String>,
    /// Entra stops before deleting (disabling) more users than this in one
    /// cycle; `None` switches the guard off.
    pub delete_threshold: Option<u32>,
}

impl Notifications {
    /// The wizard's default: the admin's mail and the suggested threshold.
    pub fn default_for(admin_mail: Option<String>) -> Self {
        Self {
            email: admin_mail.filter(|m| !m.trim().is_empty()),
            delete_threshold: Some(DEFAULT_DELETE_THRESHOLD),
        }
    }

    /// The value saved under `SyncNotificationSettings`.
    pub fn to_secret_value(&self) -> String {
        json!({
            "Enabled": self.email.is_some(),
            "Recipients": self.email.clone().unwrap_or_default(),
            "DeleteThresholdEnabled": self.delete_threshold.is_some(),
            "DeleteThresholdValue": self.delete_threshold.unwrap_or(DEFAULT_DELETE_THRESHOLD),
        })
        .to_string()
    }

    /// Reads a saved value; `None` if it is not the documented document.
    /// Disabled parts read as `None` whatever value is left beside them.
    pub fn from_secret_value(text: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let enabled = flag(&v["Enabled"])?;
        let email = v["Recipients"]
            .as_str()
            .map(str::trim)
            .filter(|r| enabled && !r.is_empty())
            .map(str::to_string);
        let threshold = if flag(&v["DeleteThresholdEnabled"]).unwrap_or(false) {
            match &v["DeleteThresholdValue"] {
                serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
        } else {
            None
        };
        Some(Self {
            email,
            delete_threshold: threshold,
        })
    }

    pub fn summary(&self) -> String {
        let mail = match &self.email {
            Some(m) => format!("failure e-mails to {m}"),
            None => "no failure e-mails".into(),
        };
        let guard = match self.delete_threshold {
            Some(n) => format!("stop before more than {n} deletions"),
            None => "no deletion threshold".into(),
        };
        format!("{mail}, {guard}")
    }
}

/// The job setting that shows the accidental-deletion threshold in force
/// (`synchronizationJobSettings`, `resources/synchronization-synchronizationjob.md`;
/// the Entra doc `application-provisioning-configuration-api.md` shows it
/// in a job GET as `{"name":"QuarantineTooManyDeletesThreshold","value":"500"}`).
pub const THRESHOLD_SETTING: &str = "QuarantineTooManyDeletesThreshold";

/// What the job shows after step 15 saved `wanted`: a sentence for the
/// step's detail, and whether it is a warning (the threshold did not take).
pub fn confirm_threshold(
    wanted: Option<u32>,
    settings: &[crate::services::graph::types::JobSetting],
) -> (String, bool) {
    let shown = settings
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(THRESHOLD_SETTING))
        .map(|s| s.value.as_deref().unwrap_or("").trim().to_string());
    let parsed = shown.as_deref().map(|v| v.parse::<u32>().ok());
    match (wanted, shown.as_deref(), parsed) {
        (Some(n), _, Some(Some(m))) if m == n => (
            format!("The job shows the deletion threshold {n} ({THRESHOLD_SETTING})."),
            false,
        ),
        (None, None, _) => (
            format!("The job shows no deletion threshold ({THRESHOLD_SETTING} absent)."),
            false,
        ),
        (Some(n), Some(v), _) => (
            format!(
                "The job shows {THRESHOLD_SETTING} = \"{v}\", not the {n} just saved: check Provisioning, Settings, \"Prevent accidental deletion\" in the Entra admin center."
            ),
            true,
        ),
        (Some(n), None, _) => (
            format!(
                "The job does not show {THRESHOLD_SETTING}, so the deletion threshold {n} could not be confirmed: check Provisioning, Settings, \"Prevent accidental deletion\" in the Entra admin center."
            ),
            true,
        ),
        (None, Some(v), _) => (
            format!(
                "The job still shows {THRESHOLD_SETTING} = \"{v}\" although the guard was switched off: check Provisioning, Settings, \"Prevent accidental deletion\" in the Entra admin center."
            ),
            true,
        ),
    }
}

/// Entra has stored booleans both as JSON booleans and as `"True"` strings.
fn flag(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => s.trim().parse::<bool>().ok().or(match s.trim() {
            "True" => Some(true),
            "False" => Some(false),
            _ => None,
        }),
        _ => None,
    }
}

/// A notification setting the admin typed that cannot be used; the message
/// names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("Notification e-mail: \"{0}\" is not an e-mail address (e.g. admin@contoso.com).")]
    Email(String),
    #[error(
        "Deletion threshold: \"{0}\" is not a whole number above 0 (leave it empty to switch the guard off)."
    )]
    Threshold(String),
}

/// Checks what the admin typed; the message names the field.
pub fn parse_email(text: &str) -> Result<Option<String>, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    // Entra takes one address or several separated by `;` or `,`.
    for part in t.split([';', ',']).map(str::trim) {
        let ok = part.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !host.ends_with('.')
        }) && !part.contains(char::is_whitespace);
        if !ok {
            return Err(FieldError::Email(part.to_string()));
        }
    }
    Ok(Some(t.to_string()))
}

pub fn parse_threshold(text: &str) -> Result<Option<u32>, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<u32>() {
        Ok(0) | Err(_) => Err(FieldError::Threshold(t.to_string())),
        Ok(n) => Ok(Some(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_reads_back() {
        // The shape of published exports of real tenants' secrets.
        let doc = r#"{"Enabled":true,"Recipients":"admin@contoso.com","DeleteThresholdEnabled":true,"DeleteThresholdValue":500}"#;
        let n = Notifications::from_secret_value(doc).unwrap();
        assert_eq!(
            n,
            Notifications::default_for(Some("admin@contoso.com".into()))
        );
        let again = Notifications::from_secret_value(&n.to_secret_value()).unwrap();
        assert_eq!(again, n);
        let v: serde_json::Value = serde_json::from_str(&n.to_secret_value()).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(doc).unwrap();
        assert_eq!(v, theirs);
    }

    #[test]
    fn disabled_parts_read_as_none() {
        let n = Notifications::from_secret_value(
            r#"{"Enabled":"False","Recipients":"x@y.com","DeleteThresholdEnabled":false,"DeleteThresholdValue":9}"#,
        )
        .unwrap();
        assert_eq!(n.email, None);
        assert_eq!(n.delete_threshold, None);
        assert!(Notifications::from_secret_value("not json").is_none());
        assert!(n.summary().contains("no failure e-mails"));
    }

    #[test]
    fn the_threshold_is_confirmed_from_the_job_settings() {
        use crate::services::graph::types::JobSetting;
        let shown = |v: &str| {
            vec![JobSetting {
                name: THRESHOLD_SETTING.into(),
                value: Some(v.into()),
            }]
        };
        let (text, warn) = confirm_threshold(Some(250), &shown("250"));
        assert!(!warn && text.contains("250"), "{text}");
        let (text, warn) = confirm_threshold(Some(250), &shown("500"));
        assert!(warn && text.contains("\"500\", not the 250"), "{text}");
        let (text, warn) = confirm_threshold(Some(250), &[]);
        assert!(warn && text.contains("could not be confirmed"), "{text}");
        assert!(!confirm_threshold(None, &[]).1);
        assert!(confirm_threshold(None, &shown("500")).1);
        assert!(confirm_threshold(Some(5), &shown("five")).1);
    }

    #[test]
    fn typed_values_get_specific_messages() {
        assert_eq!(parse_email("  ").unwrap(), None);
        assert_eq!(
            parse_email("a@b.com; c@d.org").unwrap().as_deref(),
            Some("a@b.com; c@d.org")
        );
        assert!(
            parse_email("admin")
                .unwrap_err()
                .to_string()
                .contains("\"admin\" is not an e-mail")
        );
        assert!(
            parse_email("a@b.com, x y@z.com")
                .unwrap_err()
                .to_string()
                .contains("\"x y@z.com\"")
        );
        assert_eq!(parse_threshold("").unwrap(), None);
        assert_eq!(parse_threshold(" 250 ").unwrap(), Some(250));
        assert!(
            parse_threshold("0")
                .unwrap_err()
                .to_string()
                .contains("above 0")
        );
        assert!(parse_threshold("-5").is_err());
    }
}
