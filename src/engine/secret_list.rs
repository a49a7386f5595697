//! Each SCIM secret's age and expiry, read-only: Orchidea's live secrets
//! through the admin API (the one Entra holds marked), or, without it, the
//! secret Entra holds as the run state recorded it. Never a secret value.

use std::time::SystemTime;

use serde::Serialize;

use super::error::EngineError;
use super::facts::Facts;
use super::handle::Engine;
use super::remembered::HeldSecret;
use super::secret_age::SecretAge;
use crate::services::orchidea::SecretInfo;

/// Where the list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SecretOrigin {
    /// Orchidea's admin API: every secret not revoked.
    Orchidea,
    /// The run state: only the secret Entra holds, as the wizard saved it.
    RunState,
}

/// One SCIM secret as every surface shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretStatus {
    /// Orchidea's id, when known (a pasted secret's is not).
    pub id: Option<String>,
    pub last4: String,
    /// Entra's provisioning uses this one.
    pub held_by_entra: bool,
    /// Orchidea's `createdAt`, when known.
    pub created_at: Option<String>,
    /// When Entra saved it, for a secret whose `createdAt` is unknown.
    pub saved_at: Option<String>,
    /// `false`: Orchidea's `expiresAt` is not known here (a pasted secret).
    pub expiry_known: bool,
    /// Age (from `createdAt`, else from `savedAt`) and expiry; the warning
    /// only for the secret Entra holds (an unused secret's expiry stops nothing).
    pub age: SecretAge,
}

impl SecretStatus {
    /// "scs_… (…Qk9a)" or "…Qk9a".
    pub fn name(&self) -> String {
        match &self.id {
            Some(id) => format!("{id} (…{})", self.last4),
            None => format!("…{}", self.last4),
        }
    }

    /// "scs_… (…Qk9a), held by Entra: created 3 days ago; expires in 17 days (…)".
    pub fn describe(&self) -> String {
        let held = if self.held_by_entra {
            ", held by Entra"
        } else {
            ""
        };
        let known = self.age.describe();
        let (age, expiry) = known.split_once("; ").unwrap_or((known.as_str(), ""));
        let age = match (&self.created_at, &self.saved_at, self.age.age_days) {
            (None, Some(saved), Some(days)) => format!(
                "in Entra for {days} day{} (saved {})",
                if days == 1 { "" } else { "s" },
                crate::platform::timefmt::readable(saved)
            ),
            _ => age.to_string(),
        };
        let expiry = if self.expiry_known {
            expiry.to_string()
        } else {
            "expiry unknown here: Orchidea's web UI shows it".to_string()
        };
        format!("{}{held}: {age}; {expiry}", self.name())
    }
}

/// Every secret shown, the one Entra holds first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretAges {
    pub origin: SecretOrigin,
    pub secrets: Vec<SecretStatus>,
}

impl SecretAges {
    /// The warnings of the secret Entra holds (expiring, expired, unreadable).
    pub fn warnings(&self) -> Vec<String> {
        self.secrets
            .iter()
            .filter_map(|s| s.age.warning.clone())
            .collect()
    }

    /// The secret Entra holds, when known.
    pub fn held(&self) -> Option<&SecretStatus> {
        self.secrets.iter().find(|s| s.held_by_entra)
    }

    /// One line per secret, or why there is none.
    pub fn lines(&self) -> Vec<String> {
        if self.secrets.is_empty() {
            return vec![match self.origin {
                SecretOrigin::Orchidea => "Orchidea has no SCIM secret that is not revoked.".into(),
                SecretOrigin::RunState => {
                    "The wizard has not saved a SCIM secret in Entra yet: its age and expiry are in Orchidea's web UI.".into()
                }
            }];
        }
        self.secrets.iter().map(SecretStatus::describe).collect()
    }
}

fn what(id: Option<&str>, last4: &str) -> String {
    match id {
        Some(id) => format!("The SCIM secret Entra holds ({id}, …{last4})"),
        None => format!("The SCIM secret Entra holds (…{last4})"),
    }
}

/// The secret Entra holds, from the run state alone: its age from
/// `createdAt` when the wizard created it, else from when Entra saved it;
/// its expiry only when recorded.
pub fn from_held(held: &HeldSecret, now: SystemTime) -> SecretStatus {
    let since = held.created_at.as_deref().unwrap_or(&held.saved_at);
    SecretStatus {
        id: held.id.clone(),
        last4: held.last4.clone(),
        held_by_entra: true,
        created_at: held.created_at.clone(),
        saved_at: held.created_at.is_none().then(|| held.saved_at.clone()),
        // A secret the wizard created has its `expiresAt` recorded (none: it
        // does not expire); a pasted one's is unknown.
        expiry_known: held.id.is_some() || held.expires_at.is_some(),
        age: SecretAge::of(
            &what(held.id.as_deref(), &held.last4),
            Some(since),
            held.expires_at.as_deref(),
            now,
        ),
    }
}

/// What the engine knows without asking anyone: the list last read by
/// [`Engine::secret_ages`], else the secret Entra holds per the run state
/// (when it is for the app found).
pub fn known(facts: &Facts, now: SystemTime) -> Vec<SecretStatus> {
    if let Some(ages) = &facts.secret_ages {
        return ages.secrets.clone();
    }
    facts
        .held_secret
        .iter()
        .filter(|h| {
            facts
                .app
                .as_ref()
                .is_none_or(|app| h.service_principal_id == app.id)
        })
        .map(|h| from_held(h, now))
        .collect()
}

/// Orchidea's secrets that are not revoked, the one Entra holds marked (by
/// id, else by its last four when exactly one secret ends so) and first,
/// then newest first.
pub fn from_listing(
    items: &[SecretInfo],
    held: Option<&HeldSecret>,
    now: SystemTime,
) -> Vec<SecretStatus> {
    let live: Vec<&SecretInfo> = items.iter().filter(|s| !s.revoked).collect();
    let held_id = held.and_then(|h| {
        if let Some(id) = &h.id {
            return live.iter().find(|s| &s.id == id).map(|s| s.id.clone());
        }
        let mut same = live.iter().filter(|s| s.last4 == h.last4);
        match (same.next(), same.next()) {
            (Some(only), None) => Some(only.id.clone()),
            _ => None,
        }
    });
    let mut out: Vec<SecretStatus> = live
        .iter()
        .map(|s| {
            let is_held = held_id.as_deref() == Some(s.id.as_str());
            let mut age = SecretAge::of(
                &what(Some(&s.id), &s.last4),
                Some(&s.created_at),
                s.expires_at.as_deref(),
                now,
            );
            if !is_held {
                age.warning = None;
            }
            SecretStatus {
                id: Some(s.id.clone()),
                last4: s.last4.clone(),
                held_by_entra: is_held,
                created_at: Some(s.created_at.clone()),
                saved_at: None,
                expiry_known: true,
                age,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.held_by_entra
            .cmp(&a.held_by_entra)
            .then_with(|| b.created_at.cmp(&a.created_at))
    });
    out
}

impl Engine {
    /// Each SCIM secret's age and expiry. With the admin API: Orchidea's
    /// live secrets, the one Entra holds marked; without it: the secret
    /// Entra holds, from the run state. Read-only; kept for the report.
    pub async fn secret_ages(&self) -> Result<SecretAges, EngineError> {
        let graph = self.cfg.graph.base().as_str().to_string();
        let held = {
            let facts = self.facts.lock().await;
            facts.held_secret.clone().filter(|h| {
                super::backup::same_graph(&h.graph_url, &graph)
                    && facts
                        .app
                        .as_ref()
                        .is_none_or(|app| h.is_for(&app.id, &graph))
            })
        };
        let now = SystemTime::now();
        let ages = match &self.cfg.secret_source {
            super::config::SecretSource::AdminApi { admin, .. } => {
                let items = admin.list_scim_secrets().await?;
                SecretAges {
                    origin: SecretOrigin::Orchidea,
                    secrets: from_listing(&items, held.as_ref(), now),
                }
            }
            _ => SecretAges {
                origin: SecretOrigin::RunState,
                secrets: held.iter().map(|h| from_held(h, now)).collect(),
            },
        };
        self.facts.lock().await.secret_ages = Some(ages.clone());
        Ok(ages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::secret_age::parse_time;

    fn now() -> SystemTime {
        parse_time("2026-03-01T12:00:00Z").unwrap()
    }

    fn held(id: Option<&str>, last4: &str) -> HeldSecret {
        HeldSecret {
            service_principal_id: "sp".into(),
            graph_url: "https://graph.microsoft.com/v1.0".into(),
            scim_url: "https://o.example/scim/v2".into(),
            last4: last4.into(),
            id: id.map(str::to_string),
            created_at: id.map(|_| "2026-02-20T12:00:00Z".to_string()),
            expires_at: id.map(|_| "2026-03-11T12:00:00Z".to_string()),
            saved_at: "2026-02-25T12:00:00Z".into(),
        }
    }

    fn info(id: &str, last4: &str, created: &str, expires: Option<&str>) -> SecretInfo {
        SecretInfo {
            id: id.into(),
            idp_id: "idp-entra".into(),
            last4: last4.into(),
            created_at: created.into(),
            expires_at: expires.map(str::to_string),
            revoked: false,
            description: None,
        }
    }

    #[test]
    fn a_created_secret_from_the_run_state_has_age_and_expiry() {
        let s = from_held(&held(Some("scs_1"), "Qk9a"), now());
        assert_eq!(s.age.age_days, Some(9));
        assert_eq!(s.age.expires_in_days, Some(10));
        assert!(s.expiry_known);
        let warning = s.age.warning.as_deref().unwrap();
        assert!(warning.contains("scs_1"), "{warning}");
        assert!(warning.contains("expires in 10 days"), "{warning}");
        assert_eq!(
            s.describe(),
            "scs_1 (…Qk9a), held by Entra: created 9 days ago; expires in 10 days (2026-03-11 12:00:00 UTC)"
        );
    }

    #[test]
    fn a_pasted_secret_counts_from_its_save_and_its_expiry_is_unknown() {
        let s = from_held(&held(None, "Zz12"), now());
        assert_eq!(s.age.age_days, Some(4));
        assert!(!s.expiry_known);
        assert_eq!(s.age.warning, None);
        assert_eq!(
            s.describe(),
            "…Zz12, held by Entra: in Entra for 4 days (saved 2026-02-25 12:00:00 UTC); expiry unknown here: Orchidea's web UI shows it"
        );
    }

    #[test]
    fn the_listing_marks_the_held_secret_drops_revoked_and_warns_only_for_it() {
        let mut revoked = info("scs_0", "Aaaa", "2026-01-01T00:00:00Z", None);
        revoked.revoked = true;
        let items = vec![
            revoked,
            info(
                "scs_old",
                "Bbbb",
                "2026-01-01T00:00:00Z",
                Some("2026-03-05T00:00:00Z"),
            ),
            info(
                "scs_1",
                "Qk9a",
                "2026-02-20T12:00:00Z",
                Some("2026-03-11T12:00:00Z"),
            ),
            info("scs_new", "Cccc", "2026-02-28T00:00:00Z", None),
        ];
        let list = from_listing(&items, Some(&held(Some("scs_1"), "Qk9a")), now());
        let ids: Vec<_> = list.iter().map(|s| s.id.as_deref().unwrap()).collect();
        assert_eq!(ids, ["scs_1", "scs_new", "scs_old"]);
        assert!(list[0].held_by_entra && !list[1].held_by_entra);
        assert!(list[0].age.warning.is_some());
        assert_eq!(list[2].age.expires_in_days, Some(3));
        assert_eq!(list[2].age.warning, None, "not used by Entra");
        let ages = SecretAges {
            origin: SecretOrigin::Orchidea,
            secrets: list,
        };
        assert_eq!(ages.warnings().len(), 1);
        assert_eq!(ages.held().unwrap().last4, "Qk9a");
        assert!(ages.lines()[1].contains("does not expire"));

        // A pasted secret is found by its last four, only when unambiguous.
        let by_last4 = from_listing(&items, Some(&held(None, "Cccc")), now());
        assert_eq!(by_last4[0].id.as_deref(), Some("scs_new"));
        assert!(by_last4[0].held_by_entra);
        let twice = [
            info("a", "Dddd", "2026-02-01T00:00:00Z", None),
            info("b", "Dddd", "2026-02-02T00:00:00Z", None),
        ];
        let none = from_listing(&twice, Some(&held(None, "Dddd")), now());
        assert!(none.iter().all(|s| !s.held_by_entra));
    }

    #[test]
    fn nothing_to_show_says_why() {
        let empty = SecretAges {
            origin: SecretOrigin::RunState,
            secrets: Vec::new(),
        };
        assert!(empty.lines()[0].contains("Orchidea's web UI"));
        assert!(empty.held().is_none());
    }
}
