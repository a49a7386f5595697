//! Undo: puts Entra and Orchidea back as they were before the wizard's
//! first write. [`plan`] is pure: from what the run state says the wizard
//! created, what the first backups hold and what Graph shows now, it lists
//! the actions in order, each with a sentence, and what it leaves alone and
//! why. Carrying it out is in `undo_run`.
//!
//! Decisions: the app is never deleted, even one the wizard created
//! (deleting an enterprise app also removes its assignments and single
//! sign-on, which undo of provisioning must not take); accounts already
//! provisioned in Orchidea are kept; the Secret Token Entra held before
//! cannot be put back (Graph never returns it), so restored settings carry
//! none and the plan says so; a token the admin pasted back afterwards,
//! and a job with nothing left to put back, are theirs: a second undo
//! leaves them.

/// The job Graph shows now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveJob {
    pub app_id: String,
    pub app_name: String,
    pub job_id: String,
    pub paused: bool,
}

/// The first (original) backup of one kind, and whether Entra differs from it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    pub backup_id: String,
    pub taken_at: String,
    pub differs: bool,
    /// Settings only: the tenant URL was saved then (the job had credentials).
    pub had_credentials: bool,
}

/// A SCIM secret the wizard created (from the run state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnSecret {
    /// `None`: the create's answer was lost and Orchidea's list did not show it.
    pub id: Option<String>,
    /// "id (…last4, created …)" or the description of a lost create.
    pub label: String,
    /// Orchidea lists it as revoked already.
    pub revoked: bool,
}

/// Everything [`plan`] decides from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UndoInputs {
    pub job: Option<LiveJob>,
    /// The run state records that the wizard created this job.
    pub job_created: bool,
    /// The run state records a job create on this app whose answer never
    /// came (sent at this time): the job now there may be it, or someone
    /// else's, so it is named for the admin, never deleted.
    pub job_unconfirmed: Option<String>,
    /// The run state records that the wizard created the app.
    pub app_created: bool,
    pub schema: Option<Original>,
    pub settings: Option<Original>,
    pub secrets: Vec<OwnSecret>,
    /// Orchidea's admin API is configured: secrets are revoked by the wizard.
    pub admin_api: bool,
    /// Live secrets someone else created ("id (…last4)"), never revoked.
    pub not_ours: Vec<String>,
    /// What step 0 (single sign-on) did, per app.
    pub sso: Vec<super::undo_sso::SsoUndo>,
}

/// One thing undo does, in the order it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoAction {
    PauseJob {
        app: String,
        job: String,
    },
    RestoreSchema {
        backup: String,
    },
    RestoreSettings {
        backup: String,
        had_credentials: bool,
    },
    DeleteJob {
        app: String,
        job: String,
    },
    RevokeSecret {
        id: String,
        label: String,
    },
    /// The Orchidea IDP step 0 created (single sign-on).
    DeleteIdp {
        id: String,
        name: String,
    },
}

impl UndoAction {
    /// The plain-language line shown in the plan and as progress.
    pub fn line(&self) -> String {
        match self {
            UndoAction::PauseJob { job, .. } => {
                format!("Pause provisioning job {job}: nothing more is sent to Orchidea.")
            }
            UndoAction::RestoreSchema { backup } => format!(
                "Put back the attribute mappings (schema) as they were before the wizard, from backup {backup}."
            ),
            UndoAction::RestoreSettings {
                backup,
                had_credentials,
            } => {
                let token = if *had_credentials {
                    " The Secret Token Entra held before cannot be put back: Graph never returns a saved token, so the settings are saved without one; paste the token you used before (or a new one from Orchidea) under Provisioning → Admin credentials before you start the job again."
                } else {
                    ""
                };
                format!(
                    "Put back the provisioning settings (tenant URL, scope, notifications) as they were before the wizard, from backup {backup}.{token}"
                )
            }
            UndoAction::DeleteJob { job, .. } => format!(
                "Delete provisioning job {job}: the wizard created it (its schema and settings go with it)."
            ),
            UndoAction::RevokeSecret { label, .. } => {
                format!("Revoke Orchidea SCIM secret {label}: the wizard created it.")
            }
            UndoAction::DeleteIdp { id, name } => format!(
                "Delete Orchidea IDP \"{name}\" ({id}): the wizard created it for single sign-on; nobody signs in to Orchidea through it afterwards."
            ),
        }
    }
}

/// What undo will do and what it leaves alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UndoPlan {
    pub actions: Vec<UndoAction>,
    /// For the admin to do by hand (the manual path's secrets).
    pub by_hand: Vec<String>,
    /// For the admin to check in Entra (a job the wizard may have created).
    pub in_entra: Vec<String>,
    /// What is not touched, and why.
    pub untouched: Vec<String>,
}

impl UndoPlan {
    /// Nothing left for undo to change.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.by_hand.is_empty() && self.in_entra.is_empty()
    }

    /// The whole plan as text: numbered actions, then by hand, then untouched.
    pub fn text(&self) -> String {
        let mut out = Vec::new();
        if self.actions.is_empty() {
            out.push("Nothing for the wizard to change: Entra and Orchidea are already as they were before it (as far as it created or changed them).".to_string());
        } else {
            out.push("Undo will:".to_string());
            for (i, a) in self.actions.iter().enumerate() {
                out.push(format!("  {}. {}", i + 1, a.line()));
            }
        }
        if !self.by_hand.is_empty() {
            out.push("For you to do in Orchidea's web UI:".to_string());
            out.extend(self.by_hand.iter().map(|l| format!("  - {l}")));
        }
        if !self.in_entra.is_empty() {
            out.push("For you to check in the Entra admin center:".to_string());
            out.extend(self.in_entra.iter().map(|l| format!("  - {l}")));
        }
        if !self.untouched.is_empty() {
            out.push("Undo does not touch:".to_string());
            out.extend(self.untouched.iter().map(|l| format!("  - {l}")));
        }
        out.join("\n")
    }
}

/// The ordered plan: pause, restore the schema and settings from the first
/// backups, delete the job if the wizard created it, revoke its secrets.
pub fn plan(inputs: &UndoInputs) -> UndoPlan {
    let mut p = UndoPlan::default();
    let created = inputs.job_created;
    let schema = inputs.schema.as_ref().filter(|s| s.differs && !created);
    let settings = inputs.settings.as_ref().filter(|s| s.differs);
    if let Some(job) = &inputs.job {
        // A job with nothing to put back is as before: a job the admin
        // started again after an undo keeps running.
        if !job.paused && (created || schema.is_some() || settings.is_some()) {
            p.actions.push(UndoAction::PauseJob {
                app: job.app_id.clone(),
                job: job.job_id.clone(),
            });
        }
        if let Some(s) = schema {
            p.actions.push(UndoAction::RestoreSchema {
                backup: s.backup_id.clone(),
            });
        }
        if let Some(at) = inputs.job_unconfirmed.as_ref().filter(|_| !created) {
            p.in_entra.push(format!(
                "Provisioning job {}: the wizard sent a job create on this app at {} but never received its answer, so it cannot tell whether this job is that one or someone else's, and does not delete it. If nobody else created it, delete it under Enterprise applications → \"{}\" → Provisioning.",
                job.job_id,
                crate::platform::timefmt::readable(at),
                job.app_name
            ));
        }
    }
    if let Some(s) = settings {
        p.actions.push(UndoAction::RestoreSettings {
            backup: s.backup_id.clone(),
            had_credentials: s.had_credentials && !created,
        });
    }
    if let Some(job) = inputs.job.as_ref().filter(|_| created) {
        p.actions.push(UndoAction::DeleteJob {
            app: job.app_id.clone(),
            job: job.job_id.clone(),
        });
    }
    for s in &inputs.secrets {
        match (&s.id, inputs.admin_api, s.revoked) {
            (Some(_), _, true) => {}
            (Some(id), true, false) => p.actions.push(UndoAction::RevokeSecret {
                id: id.clone(),
                label: s.label.clone(),
            }),
            (Some(_), false, false) => p.by_hand.push(format!(
                "Revoke SCIM secret {} (workspace admin → User management → SCIM): the wizard created it, and without Orchidea's admin API it cannot revoke it itself.",
                s.label
            )),
            (None, _, _) => p.by_hand.push(format!(
                "If Orchidea lists a SCIM secret {} (workspace admin → User management → SCIM), revoke it: the wizard sent that create but never received its answer.",
                s.label
            )),
        }
    }
    p.untouched = untouched(inputs);
    super::undo_sso::plan_sso(&mut p, &inputs.sso, inputs.admin_api);
    p
}

fn untouched(inputs: &UndoInputs) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(job) = &inputs.job {
        let name = &job.app_name;
        if inputs.app_created {
            lines.push(format!("The enterprise application \"{name}\" ({}), although the wizard created it: deleting an app also removes its user assignments and single sign-on, so undo leaves it; delete it under Enterprise applications in the Entra admin center if you no longer need it.", job.app_id));
        } else {
            lines.push(format!(
                "The enterprise application \"{name}\" ({}): it was there before the wizard.",
                job.app_id
            ));
        }
        if !inputs.job_created && inputs.job_unconfirmed.is_none() {
            lines.push(format!("Provisioning job {}: it was there before the wizard, so it is put back (paused first), never deleted.", job.job_id));
        }
    }
    if inputs.job_created && inputs.schema.as_ref().is_some_and(|s| s.differs) {
        lines.push(
            "The mappings are not restored one by one: the job that holds them is deleted."
                .to_string(),
        );
    }
    lines.push("Users and groups assigned to the app, and accounts already provisioned in Orchidea: undo stops provisioning, it deletes no one.".to_string());
    lines.extend(inputs.not_ours.iter().map(|s| {
        format!("Orchidea SCIM secret {s}: the wizard did not create it, so it is not revoked.")
    }));
    lines.push("The backups: they stay, so any of them can be put back later.".to_string());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(paused: bool) -> LiveJob {
        LiveJob {
            app_id: "sp1".into(),
            app_name: "Orchidea".into(),
            job_id: "job1".into(),
            paused,
        }
    }

    fn original(id: &str, differs: bool, had_credentials: bool) -> Original {
        Original {
            backup_id: id.into(),
            taken_at: "2026-01-01T00:00:00Z".into(),
            differs,
            had_credentials,
        }
    }

    fn secret(id: &str, revoked: bool) -> OwnSecret {
        OwnSecret {
            id: Some(id.into()),
            label: format!("{id} (…abcd)"),
            revoked,
        }
    }

    fn created_run() -> UndoInputs {
        UndoInputs {
            job: Some(job(false)),
            job_created: true,
            job_unconfirmed: None,
            app_created: true,
            schema: Some(original("s1", true, false)),
            settings: Some(original("t1", true, false)),
            secrets: vec![secret("sec1", false)],
            admin_api: true,
            not_ours: vec!["hand1 (…wxyz)".into()],
            sso: Vec::new(),
        }
    }

    #[test]
    fn a_job_the_wizard_created_is_paused_then_deleted_and_its_secrets_revoked() {
        let p = plan(&created_run());
        assert_eq!(
            p.actions,
            vec![
                UndoAction::PauseJob {
                    app: "sp1".into(),
                    job: "job1".into()
                },
                UndoAction::RestoreSettings {
                    backup: "t1".into(),
                    had_credentials: false
                },
                UndoAction::DeleteJob {
                    app: "sp1".into(),
                    job: "job1".into()
                },
                UndoAction::RevokeSecret {
                    id: "sec1".into(),
                    label: "sec1 (…abcd)".into()
                },
            ]
        );
        let text = p.text();
        assert!(text.contains("although the wizard created it"), "{text}");
        assert!(text.contains("hand1 (…wxyz): the wizard did not create it"));
        assert!(text.contains("The mappings are not restored one by one"));
    }

    #[test]
    fn a_job_that_was_there_is_paused_and_put_back_never_deleted() {
        let inputs = UndoInputs {
            job_created: false,
            app_created: false,
            settings: Some(original("t1", true, true)),
            ..created_run()
        };
        let p = plan(&inputs);
        assert!(
            !p.actions
                .iter()
                .any(|a| matches!(a, UndoAction::DeleteJob { .. }))
        );
        assert_eq!(
            p.actions[..3],
            [
                UndoAction::PauseJob {
                    app: "sp1".into(),
                    job: "job1".into()
                },
                UndoAction::RestoreSchema {
                    backup: "s1".into()
                },
                UndoAction::RestoreSettings {
                    backup: "t1".into(),
                    had_credentials: true
                },
            ]
        );
        let text = p.text();
        assert!(text.contains("cannot be put back"), "{text}");
        assert!(text.contains("never deleted"), "{text}");
        assert!(text.contains("it was there before the wizard"), "{text}");
    }

    #[test]
    fn what_is_already_as_before_is_left_out_and_an_empty_plan_says_so() {
        let inputs = UndoInputs {
            job: Some(job(true)),
            job_created: false,
            schema: Some(original("s1", false, false)),
            settings: Some(original("t1", false, true)),
            secrets: vec![secret("sec1", true)],
            ..created_run()
        };
        let p = plan(&inputs);
        assert!(p.is_empty(), "{p:?}");
        assert!(p.text().starts_with("Nothing for the wizard to change"));
        let none = plan(&UndoInputs::default());
        assert!(none.is_empty());
    }

    #[test]
    fn without_the_admin_api_secrets_are_named_for_the_admin_to_revoke() {
        let mut inputs = UndoInputs {
            admin_api: false,
            ..created_run()
        };
        inputs.secrets.push(OwnSecret {
            id: None,
            label: "with the description \"wizard 1\"".into(),
            revoked: false,
        });
        let p = plan(&inputs);
        assert!(
            !p.actions
                .iter()
                .any(|a| matches!(a, UndoAction::RevokeSecret { .. }))
        );
        assert_eq!(p.by_hand.len(), 2);
        assert!(p.by_hand[0].contains("sec1 (…abcd)"));
        assert!(p.by_hand[1].contains("never received its answer"));
        assert!(!p.is_empty());
    }

    #[test]
    fn a_job_started_again_with_nothing_to_put_back_is_left_running() {
        let inputs = UndoInputs {
            job: Some(job(false)),
            job_created: false,
            schema: Some(original("s1", false, false)),
            settings: Some(original("t1", false, true)),
            secrets: Vec::new(),
            ..created_run()
        };
        assert!(plan(&inputs).is_empty(), "{:?}", plan(&inputs));
    }

    #[test]
    fn a_job_whose_create_got_no_answer_is_named_never_deleted() {
        let inputs = UndoInputs {
            job_created: false,
            job_unconfirmed: Some("2026-01-01T00:00:00Z".into()),
            schema: Some(original("s1", false, false)),
            settings: Some(original("t1", false, false)),
            secrets: Vec::new(),
            ..created_run()
        };
        let p = plan(&inputs);
        assert!(p.actions.is_empty(), "{p:?}");
        assert!(!p.is_empty(), "the admin has something to check");
        let text = p.text();
        assert!(
            text.contains("For you to check in the Entra admin center:"),
            "{text}"
        );
        assert!(
            text.contains("job1: the wizard sent a job create"),
            "{text}"
        );
        assert!(text.contains("2026-01-01 00:00:00 UTC"), "{text}");
        assert!(
            !text.contains("it was there before the wizard, so"),
            "{text}"
        );
    }
}
