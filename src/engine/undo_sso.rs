//! Undo's part for step 0 (single sign-on), pure like [`super::undo::plan`]:
//! the Orchidea IDP the wizard created is deleted (admin API) or named for
//! the admin to delete; the app and its SAML settings stay (users sign in
//! with them), with the way to take them off by hand.

use super::undo::{UndoAction, UndoPlan};
use crate::services::orchidea::sso::ENTITY_ID;

/// What step 0 did on one app (from the run state), and what Orchidea shows now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoUndo {
    pub app_id: String,
    pub app_name: String,
    pub app_created: bool,
    /// The SAML settings were set by the wizard.
    pub saml_set: bool,
    /// The signing certificate the wizard added (thumbprint).
    pub certificate: Option<String>,
    /// The IDP the wizard created in Orchidea: id and name.
    pub idp: Option<(String, String)>,
    /// Orchidea still lists that IDP (`true` when it cannot be read).
    pub idp_listed: bool,
    /// The admin added the IDP by hand (manual path); its reply URL.
    pub idp_by_hand: Option<String>,
}

/// Adds step 0's actions (after the secrets: Orchidea keeps an IDP that
/// live secrets use), by-hand lines and untouched lines to `p`.
pub fn plan_sso(p: &mut UndoPlan, items: &[SsoUndo], admin_api: bool) {
    for s in items {
        match (&s.idp, admin_api) {
            (Some((id, name)), true) if s.idp_listed => p.actions.push(UndoAction::DeleteIdp {
                id: id.clone(),
                name: name.clone(),
            }),
            (Some((id, name)), false) => p.by_hand.push(format!(
                "Delete the IDP \"{name}\" ({id}) under workspace settings → Authentication: the wizard created it for single sign-on, and without Orchidea's admin API it cannot delete it itself."
            )),
            // Already gone, or none created.
            _ => {}
        }
        if let Some(reply) = &s.idp_by_hand {
            p.by_hand.push(format!(
                "The IDP you added for single sign-on (reply URL {reply}): delete it under workspace settings → Authentication if nobody signs in to Orchidea with it."
            ));
        }
        if s.saml_set || s.certificate.is_some() {
            let cert = s
                .certificate
                .as_deref()
                .map(|t| format!(", signing certificate {t}"))
                .unwrap_or_default();
            p.untouched.push(format!(
                "The SAML single sign-on settings of \"{}\" (Identifier {ENTITY_ID}, Reply URL, Sign on URL{cert}): people sign in to Orchidea with them, so undo leaves them. To remove them by hand: Entra admin center → Enterprise applications → \"{}\" → Single sign-on → change single sign-on mode; Basic SAML Configuration → remove the Identifier and Reply URL; SAML Certificates → delete the certificate.",
                s.app_name, s.app_name
            ));
        }
        // Named once: the job's lines may have named it already.
        if s.app_created && !p.untouched.iter().any(|l| l.contains(&s.app_id)) {
            p.untouched.push(format!(
                "The enterprise application \"{}\" ({}), created for single sign-on: undo never deletes an app (that also removes its assignments and sign-in); delete it under Enterprise applications if you no longer need it.",
                s.app_name, s.app_id
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(idp_listed: bool) -> SsoUndo {
        SsoUndo {
            app_id: "sp1".into(),
            app_name: "Orchidea".into(),
            app_created: true,
            saml_set: true,
            certificate: Some("ABCD".into()),
            idp: Some(("idp-9".into(), "Microsoft Entra ID (SAML)".into())),
            idp_listed,
            idp_by_hand: None,
        }
    }

    #[test]
    fn the_idp_the_wizard_created_is_deleted_and_the_app_is_left_with_a_way_out() {
        let mut p = UndoPlan::default();
        plan_sso(&mut p, &[made(true)], true);
        assert_eq!(
            p.actions,
            vec![UndoAction::DeleteIdp {
                id: "idp-9".into(),
                name: "Microsoft Entra ID (SAML)".into()
            }]
        );
        assert!(p.by_hand.is_empty());
        let text = p.untouched.join("\n");
        assert!(
            text.contains("SAML single sign-on settings of \"Orchidea\""),
            "{text}"
        );
        assert!(
            text.contains("Single sign-on → change single sign-on mode"),
            "{text}"
        );
        assert!(text.contains("ABCD"), "{text}");
        assert!(text.contains("never deletes an app"), "{text}");
        assert!(p.actions[0].line().contains("idp-9"));

        // The job's untouched lines named the app already: not twice.
        let mut p = UndoPlan {
            untouched: vec!["The enterprise application \"Orchidea\" (sp1), although …".into()],
            ..UndoPlan::default()
        };
        plan_sso(&mut p, &[made(true)], true);
        assert_eq!(p.untouched.iter().filter(|l| l.contains("sp1")).count(), 1);
    }

    #[test]
    fn an_idp_already_gone_is_not_deleted_again() {
        let mut p = UndoPlan::default();
        plan_sso(&mut p, &[made(false)], true);
        assert!(p.actions.is_empty() && p.by_hand.is_empty(), "{p:?}");
        assert!(!p.untouched.is_empty(), "the app still has its settings");
    }

    #[test]
    fn without_the_admin_api_or_on_the_manual_path_the_admin_deletes_it() {
        let mut p = UndoPlan::default();
        plan_sso(&mut p, &[made(true)], false);
        assert!(p.actions.is_empty());
        assert!(p.by_hand[0].contains("idp-9") && p.by_hand[0].contains("Authentication"));

        let mut p = UndoPlan::default();
        let manual = SsoUndo {
            idp: None,
            idp_by_hand: Some("https://app.orchidea.dev/api/saml/login/x".into()),
            app_created: false,
            certificate: None,
            ..made(true)
        };
        plan_sso(&mut p, &[manual], true);
        assert!(p.actions.is_empty());
        assert!(
            p.by_hand[0].contains("/api/saml/login/x"),
            "{:?}",
            p.by_hand
        );
        assert_eq!(p.untouched.len(), 1, "settings only: {:?}", p.untouched);
    }

    #[test]
    fn nothing_done_by_step_0_adds_nothing() {
        let mut p = UndoPlan::default();
        plan_sso(&mut p, &[], true);
        assert_eq!(p, UndoPlan::default());
    }
}
