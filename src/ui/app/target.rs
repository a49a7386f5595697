//! Where the wizard works: the tenant signed in to, and the engine built
//! for the secret path chosen on screen 1 (also by "run the remaining steps").

use super::{Action, App, Effect};
use crate::ui::panel::sign_in::SignedIn;
use crate::ui::screen::{Screen, ScreenId, orchidea_secret};
use crate::ui::work::{Op, Target, TargetError, Tenant};

impl App {
    /// Works on the signed-in tenant from now on (a new engine: every step
    /// is checked again) and moves to the Orchidea screen.
    pub(super) fn open_tenant(
        &mut self,
        signed: &SignedIn,
        orchidea: Option<(url::Url, crate::Secret)>,
    ) -> Vec<Effect> {
        self.session.reset_engine();
        self.session.idps = None;
        self.session.target = Some(Target::Tenant(Tenant {
            graph_url: signed.cfg.graph_url.clone(),
            token: std::sync::Arc::clone(&signed.token),
            cloud: signed.cfg.cloud,
            orchidea,
            consent_url: Some(signed.cfg.admin_consent_url()),
            tenant_id: signed.account.tenant_id.clone(),
        }));
        self.open_checking(ScreenId::Sso)
    }

    /// Builds the engine for the secret path on screen 1 (a new path or
    /// secret starts a fresh engine: every step is re-checked).
    pub(super) fn connect(
        &mut self,
        connect: orchidea_secret::Connect,
    ) -> Result<bool, TargetError> {
        let Some(target) = self.session.target.clone() else {
            return Err(TargetError::NoTarget);
        };
        let creates = connect.manual.is_none();
        let choices = crate::setup::Choices {
            idp: connect.idp,
            ..self.last_choices()
        };
        let mut engine = target.engine_with(connect.manual, choices, self.sso_request())?;
        if let Screen::Sso(sso) = &self.screens[ScreenId::Sso.index()]
            && let Some(ran) = &sso.ran
        {
            engine = engine.after(ran);
        }
        self.session.reset_engine();
        self.session.engine = Some(engine);
        Ok(creates)
    }

    /// Step 0's choice as its screen holds it.
    fn sso_request(&self) -> crate::ui::screen::sso::SsoRequest {
        match &self.screens[ScreenId::Sso.index()] {
            Screen::Sso(s) => s.request(),
            _ => crate::ui::screen::sso::SsoRequest::default(),
        }
    }

    pub(super) fn run_remaining(&mut self) -> Vec<Effect> {
        if self.session.is_busy() || self.session.target.is_none() {
            return Vec::new();
        }
        if self.session.engine.is_none() {
            let at = ScreenId::OrchideaSecret.index();
            let connect = match &mut self.screens[at] {
                Screen::OrchideaSecret(secret) => secret.connect(&self.session),
                _ => None,
            };
            let Some(connect) = connect else {
                self.current = ScreenId::OrchideaSecret;
                return Vec::new();
            };
            if let Err(e) = self.connect(connect) {
                return self.perform(Action::Fail(e.to_string()));
            }
        }
        self.session.running_all = true;
        self.perform(Action::Run(Op::RunAll))
    }
}
