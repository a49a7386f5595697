//! Moving through the wizard: the primary action, Back, "run the remaining
//! steps", and what finished work changes in the root.

use super::{Action, App, Effect, Message};
use crate::ui::panel::sign_in::SignedIn;
use crate::ui::screen::{self, Screen, ScreenId, orchidea_secret, welcome};
use crate::ui::session::Failure;
use crate::ui::work::{Op, Outcome, Target, Tenant};

impl App {
    pub(super) fn primary(&mut self) -> Vec<Effect> {
        if self.session.is_busy() {
            return Vec::new();
        }
        let page = self.page();
        if !self.current.steps().is_empty() && page.is_complete(&self.session) {
            return self.go(self.current.next());
        }
        let at = self.current.index();
        let action = self.screens[at].primary(&self.session);
        self.perform(action)
    }

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
        self.go(Some(ScreenId::OrchideaSecret))
    }

    /// Builds the engine for the secret path on screen 1 (a new path or
    /// secret starts a fresh engine: every step is re-checked).
    pub(super) fn connect(&mut self, connect: orchidea_secret::Connect) -> Result<bool, String> {
        let Some(target) = self.session.target.clone() else {
            return Err(orchidea_secret::NO_TARGET.into());
        };
        let creates = connect.manual.is_none();
        let choices = crate::setup::Choices {
            idp: connect.idp,
            ..self.last_choices()
        };
        let engine = target.engine(connect.manual, choices)?;
        self.session.reset_engine();
        self.session.engine = Some(engine);
        Ok(creates)
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
            if let Err(message) = self.connect(connect) {
                return self.perform(Action::Fail(message));
            }
        }
        self.session.running_all = true;
        self.perform(Action::Run(Op::RunAll))
    }

    pub(super) fn back(&mut self) -> Vec<Effect> {
        self.session.cancel();
        // A sign-in in flight was just aborted with the rest.
        let _ = self.route(screen::Message::Welcome(welcome::Message::Cancelled));
        if let Some(previous) = self.current.previous() {
            self.current = previous;
            self.session.selected_step = None;
            self.session.error = None;
        }
        Vec::new()
    }

    pub(super) fn go(&mut self, to: Option<ScreenId>) -> Vec<Effect> {
        let Some(to) = to else {
            return Vec::new();
        };
        self.current = to;
        self.session.selected_step = None;
        self.session.error = None;
        let action = self.page().on_enter(&self.session);
        self.perform(action)
    }

    pub(super) fn finished(&mut self, id: u64, outcome: Outcome) -> Vec<Effect> {
        if !self.is_current(id) {
            return Vec::new();
        }
        let op = self.session.running.take().map(|r| r.op);
        let ran_all = std::mem::take(&mut self.session.running_all);
        self.session.pause = None;
        let mut effects = Vec::new();
        match outcome {
            Outcome::Reply(message) => {
                let idps = matches!(
                    &*message,
                    Message::Secret(orchidea_secret::Message::IdpsLoaded(Ok(_)))
                );
                effects = self.handle(*message);
                if idps && self.timing.mode == crate::ui::bench::BenchMode::Run {
                    effects.extend(self.run_remaining());
                }
            }
            Outcome::Sandbox(Ok(handle)) => {
                self.session.reset_engine();
                self.session.idps = None;
                self.session.target = Some(Target::Sandbox(handle.0));
                let _ = self.route(screen::Message::Welcome(welcome::Message::SandboxStarted));
                return self.go(Some(ScreenId::OrchideaSecret));
            }
            Outcome::Sandbox(Err(e)) => self.fail(format!("The sandbox did not start: {e}"), op),
            Outcome::SignedIn(result) => {
                // Where to sign in is saved once it worked, with the last choices.
                if let (Ok(_), Some(Op::SignIn(request))) = (&result, &op) {
                    let last = std::mem::take(&mut self.settings.last);
                    self.settings = request.settings.clone();
                    self.settings.last = last;
                    effects.push(Effect::SaveSettings(self.settings.clone()));
                }
                let message = welcome::Message::SignedIn(result.map(|s| *s));
                let action = self.route(screen::Message::Welcome(message));
                effects.extend(self.perform(action));
            }
            Outcome::SignedOut(Ok(_)) => {
                self.session.reset_engine();
                self.session.target = None;
            }
            Outcome::SignedOut(Err(e)) => self.fail(
                format!("Signed out in this window, but the remembered sign-in could not be removed: {e}"),
                None,
            ),
            Outcome::OrchideaChecked(Ok((_name, token))) => {
                let Some(Op::CheckOrchidea { workspace, .. }) = op else {
                    return Vec::new();
                };
                let message = welcome::Message::OrchideaChecked(workspace, token);
                let action = self.route(screen::Message::Welcome(message));
                return self.perform(action);
            }
            Outcome::OrchideaChecked(Err(e)) => self.fail(e, None),
            Outcome::NoEngine => self.fail(
                "Create or paste the SCIM secret (step 1) first.".into(),
                None,
            ),
            Outcome::Engine(result, snapshot) => {
                self.session.checklist = snapshot.facts.checklist.clone();
                self.session.absorb(&snapshot.facts);
                if matches!(op, Some(Op::RestartJob)) {
                    // Watch the new cycle closely again.
                    self.session.monitor_epoch += 1;
                }
                self.session.snapshot = Some(*snapshot);
                if matches!(op, Some(Op::Restore(_))) && result.is_ok() {
                    // The restore took a backup of what it replaced.
                    return self.perform(Action::Run(Op::ListBackups));
                }
                match result {
                    Ok(()) => {
                        if matches!(op, Some(Op::Connect { .. })) {
                            let done = orchidea_secret::Message::Connected;
                            let _ = self.route(screen::Message::Secret(done));
                        }
                        if let Some(save) = op.as_ref().and_then(|op| self.remember_choice(op)) {
                            effects.push(save);
                        }
                        if ran_all && self.session.checklist.all_complete() {
                            self.current = ScreenId::Summary;
                            effects.extend(self.perform(Action::Run(Op::ListBackups)));
                            return effects;
                        }
                    }
                    Err(e) => self.fail(e.to_string(), op),
                }
            }
        }
        effects
    }

    pub(super) fn fail(&mut self, message: String, retry: Option<Op>) {
        self.session.error = Some(Failure { message, retry });
    }
}
