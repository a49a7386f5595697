//! Rotating the SCIM secret without stopping provisioning: a new secret is
//! made (or pasted), proven at Orchidea and by Entra's Test Connection,
//! saved with every other setting kept, tested again as saved, and only
//! then is the old one revoked. A failure at any stage leaves the old
//! secret working; the job is never paused.
//!
//! This file holds the stages, the outcome and the pure choice of which
//! secret is "the old one"; the stages run in `steps/rotate.rs`.

use crate::platform::secret::Secret;
use crate::services::orchidea::SecretInfo;

use super::remembered::HeldSecret;

/// The stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateStage {
    NewSecret,
    Probe,
    TestNew,
    Save,
    TestSaved,
    RevokeOld,
}

impl RotateStage {
    pub const ALL: [RotateStage; 6] = [
        RotateStage::NewSecret,
        RotateStage::Probe,
        RotateStage::TestNew,
        RotateStage::Save,
        RotateStage::TestSaved,
        RotateStage::RevokeOld,
    ];

    /// 1-based, as shown.
    pub fn number(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    pub fn title(self) -> &'static str {
        match self {
            RotateStage::NewSecret => "New secret in Orchidea",
            RotateStage::Probe => "Orchidea's SCIM endpoint accepts it",
            RotateStage::TestNew => "Entra's Test Connection with it",
            RotateStage::Save => "Save it in Entra (scope and notifications kept)",
            RotateStage::TestSaved => "Test Connection on the saved credentials",
            RotateStage::RevokeOld => "Revoke the old secret",
        }
    }

    /// What still holds when rotation stops at this stage.
    pub fn after_failure(self) -> &'static str {
        match self {
            RotateStage::NewSecret | RotateStage::Probe | RotateStage::TestNew => {
                "Entra still holds the old secret and it still works; nothing in Entra was changed."
            }
            RotateStage::Save => {
                "The old secret still works and is not revoked; Entra may or may not hold the new one. Rotate again: it starts over with a new secret."
            }
            RotateStage::TestSaved => {
                "Entra holds the new secret; the old secret still works and was not revoked. Rotate again once Test Connection passes."
            }
            RotateStage::RevokeOld => {
                "The new secret is saved and works; the old one still works too."
            }
        }
    }
}

/// Where the new secret comes from.
#[derive(Clone, Default)]
pub enum NewSecret {
    /// From the engine's configuration: Orchidea's admin API creates one,
    /// or the manual path's pasted secret.
    #[default]
    Configured,
    /// Pasted now (from Orchidea's web UI), for the Tenant URL Entra holds.
    Pasted(Secret),
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NewSecret::Configured => f.write_str("Configured"),
            NewSecret::Pasted(s) => write!(f, "Pasted({})", s.masked()),
        }
    }
}

/// What the admin asked for.
#[derive(Debug, Clone, Default)]
pub struct RotateOptions {
    pub new_secret: NewSecret,
    /// The old secret's id in Orchidea, when the wizard cannot tell which
    /// one Entra held (a secret it did not create or record).
    pub old_id: Option<String>,
}

/// What happened to the secret Entra held before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldSecret {
    /// Revoked through Orchidea's admin API (its description).
    Revoked(String),
    /// Without the admin API: the admin revokes it in Orchidea's web UI;
    /// `which` names it as far as known.
    RevokeByHand { which: String },
    /// The admin API is there, but which live secret Entra held is not
    /// known: these are left alone and named.
    NotIdentified { candidates: Vec<String> },
    /// The revoke was refused or failed: it still works.
    NotRevoked { which: String, why: String },
    /// Orchidea lists no other live secret.
    None,
}

/// A finished rotation: one line per stage, the new secret (masked), the
/// old one's fate and anything the admin should know.
#[derive(Debug, Clone)]
pub struct RotateOutcome {
    pub lines: Vec<(RotateStage, String)>,
    /// "scs_… (••••Qk9a)" or "••••Qk9a".
    pub new_secret: String,
    pub old: OldSecret,
    pub warnings: Vec<String>,
}

impl RotateOutcome {
    /// True when nothing is left for the admin to do.
    pub fn complete(&self) -> bool {
        matches!(self.old, OldSecret::Revoked(_) | OldSecret::None)
    }
}

/// Which of Orchidea's secrets is the old one, chosen without any write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldPick {
    /// This id.
    Id(String),
    /// Several live secrets could be it: named, none revoked.
    Ambiguous(Vec<String>),
    /// No live secret besides the new one.
    Nothing,
}

/// "scs_… (…Qk9a, created 2026-03-01 10:15:00 UTC)".
pub fn describe_info(s: &SecretInfo) -> String {
    format!(
        "{} (…{}, created {})",
        s.id,
        s.last4,
        crate::platform::timefmt::readable(&s.created_at)
    )
}

/// Picks the old secret among Orchidea's `live` secrets (revoked ones are
/// ignored), never the new one: the id the admin named; else the one the
/// run state says Entra held (by id, else by its last four characters when
/// exactly one matches); else, when Entra's saved secret worked before
/// (so it is one of Orchidea's live secrets) and only one other live
/// secret remains, that one; otherwise the candidates are named and none
/// is picked.
pub fn pick_old(
    live: &[SecretInfo],
    new_id: Option<&str>,
    held: Option<&HeldSecret>,
    named: Option<&str>,
    entra_secret_worked: bool,
) -> OldPick {
    let others: Vec<&SecretInfo> = live
        .iter()
        .filter(|s| !s.revoked && Some(s.id.as_str()) != new_id)
        .collect();
    if let Some(id) = named {
        return OldPick::Id(id.to_string());
    }
    if others.is_empty() {
        return OldPick::Nothing;
    }
    if let Some(held) = held {
        if let Some(id) = &held.id
            && others.iter().any(|s| &s.id == id)
        {
            return OldPick::Id(id.clone());
        }
        let by_last4: Vec<&&SecretInfo> = others.iter().filter(|s| s.last4 == held.last4).collect();
        if let [one] = by_last4.as_slice() {
            return OldPick::Id(one.id.clone());
        }
    }
    if let [one] = others.as_slice()
        && entra_secret_worked
    {
        return OldPick::Id(one.id.clone());
    }
    OldPick::Ambiguous(others.into_iter().map(describe_info).collect())
}

impl super::handle::Engine {
    /// Rotates the SCIM secret Entra holds (stages in [`RotateStage`]);
    /// `on_stage` hears each finished stage. A stage that fails returns
    /// [`super::EngineError::RotateStopped`], saying what still holds.
    pub async fn rotate(
        &self,
        opts: &RotateOptions,
        on_stage: super::steps::OnStage<'_>,
    ) -> Result<RotateOutcome, super::EngineError> {
        let mut facts = self.facts.lock().await;
        super::steps::rotate(self, &mut facts, opts, on_stage).await
    }

    /// Whether Orchidea now refuses `old` at the Tenant URL Entra holds:
    /// the manual path's check that the admin revoked it.
    pub async fn old_secret_refused(&self, old: &Secret) -> Result<bool, super::EngineError> {
        let mut facts = self.facts.lock().await;
        if facts.saved_base_address.is_none() {
            super::steps::discover(self, &mut facts).await?;
        }
        let url = facts
            .saved_base_address
            .clone()
            .or_else(|| facts.held_secret.as_ref().map(|h| h.scim_url.clone()));
        drop(facts);
        let Some(url) = url else {
            return Err(super::EngineError::Input(
                "No Tenant URL is known yet: rotate first, or check with the setup's SCIM URL."
                    .into(),
            ));
        };
        super::steps::refused(self, &url, old).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, last4: &str, revoked: bool) -> SecretInfo {
        SecretInfo {
            id: id.into(),
            idp_id: "idp-entra".into(),
            last4: last4.into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            expires_at: None,
            revoked,
            description: None,
        }
    }

    fn held(id: Option<&str>, last4: &str) -> HeldSecret {
        HeldSecret {
            service_principal_id: "sp".into(),
            graph_url: "https://graph.microsoft.com/v1.0".into(),
            scim_url: "https://o.example/scim/v2".into(),
            last4: last4.into(),
            id: id.map(str::to_string),
            created_at: None,
            expires_at: None,
            saved_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn the_held_secret_is_found_by_id_then_by_last_four() {
        let live = [
            info("a", "AAAA", false),
            info("b", "BBBB", false),
            info("new", "NNNN", false),
        ];
        assert_eq!(
            pick_old(
                &live,
                Some("new"),
                Some(&held(Some("b"), "BBBB")),
                None,
                false
            ),
            OldPick::Id("b".into())
        );
        assert_eq!(
            pick_old(&live, Some("new"), Some(&held(None, "AAAA")), None, false),
            OldPick::Id("a".into()),
            "a pasted secret: matched by its last four"
        );
    }

    #[test]
    fn never_the_new_one_nor_a_revoked_one_and_no_guess_among_several() {
        let live = [
            info("a", "AAAA", false),
            info("gone", "AAAA", true),
            info("new", "NNNN", false),
        ];
        assert_eq!(
            pick_old(&live, Some("new"), None, None, true),
            OldPick::Id("a".into()),
            "the only other live secret, and Entra's worked: it was Entra's"
        );
        assert!(
            matches!(
                pick_old(&live, Some("new"), None, None, false),
                OldPick::Ambiguous(_)
            ),
            "Entra's did not work: the other one may serve something else"
        );
        assert_eq!(
            pick_old(&live[1..], Some("new"), None, None, true),
            OldPick::Nothing
        );
        let two = [info("a", "AAAA", false), info("b", "AAAA", false)];
        match pick_old(&two, None, Some(&held(None, "AAAA")), None, true) {
            OldPick::Ambiguous(c) => {
                assert_eq!(c.len(), 2);
                assert!(c[0].contains("…AAAA"), "{c:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            pick_old(&two, None, Some(&held(None, "AAAA")), Some("b"), true),
            OldPick::Id("b".into()),
            "the admin named it"
        );
    }

    #[test]
    fn stages_are_numbered_in_order() {
        let numbers: Vec<usize> = RotateStage::ALL.iter().map(|s| s.number()).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
        assert!(
            RotateStage::TestSaved
                .after_failure()
                .contains("not revoked")
        );
    }
}
