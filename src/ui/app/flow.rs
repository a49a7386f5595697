//! Moving through the wizard: the primary action of each screen, Back,
//! "run the remaining steps", and what finished work changes.

use super::{Action, App, Effect, Message};
use crate::platform::clipboard::Expiry;
use crate::setup::Choices;
use crate::ui::screen::{Screen, credentials, mappings, save, start, welcome};
use crate::ui::session::Failure;
use crate::ui::work::{Op, Outcome, Target};

impl App {
    pub(super) fn primary(&mut self) -> Vec<Effect> {
        if self.session.is_busy() {
            return Vec::new();
        }
        let screen = self.screen;
        if !screen.steps().is_empty() && self.screen_complete() {
            return self.go(screen.next());
        }
        let action = match screen {
            Screen::Welcome => match self.welcome.mode {
                welcome::Mode::Sandbox => match self.session.target {
                    Some(Target::Sandbox(_)) => return self.go(screen.next()),
                    _ => Action::Run(Op::StartSandbox(self.sandbox_tenant.clone())),
                },
                welcome::Mode::Tenant => match self.welcome.sign_in.ready() {
                    Err(message) => Action::Fail(message),
                    Ok((signed, None)) => return self.open_tenant(&signed, None),
                    Ok((_, Some((workspace, token)))) => Action::Run(Op::CheckOrchidea {
                        workspace,
                        token,
                        remember: self.welcome.sign_in.remember(),
                    }),
                },
            },
            Screen::OrchideaSecret => match self.connect() {
                Ok(creates) => Action::Run(Op::Connect { creates }),
                Err(Some(message)) => Action::Fail(message),
                Err(None) => Action::None,
            },
            Screen::ChooseApp => self.choose_app.submit(&self.session),
            Screen::Credentials => credentials::submit(),
            Screen::Save => save::submit(),
            Screen::Mappings => mappings::submit(&self.session),
            Screen::Scope => self.scope.submit(&self.session),
            Screen::Start => start::submit(),
            Screen::Summary => return self.handle(Message::CloseRequested(None)),
        };
        self.perform(action)
    }

    /// Works on the signed-in tenant from now on (a new engine: every step
    /// is checked again) and moves to the Orchidea screen.
    fn open_tenant(
        &mut self,
        signed: &crate::ui::screen::sign_in::SignedIn,
        orchidea: Option<(url::Url, crate::Secret)>,
    ) -> Vec<Effect> {
        self.session.reset_engine();
        self.session.idps = None;
        self.session.target = Some(Target::Tenant(crate::ui::work::Tenant {
            graph_url: signed.cfg.graph_url.clone(),
            token: std::sync::Arc::clone(&signed.token),
            cloud: signed.cfg.cloud,
            orchidea,
            consent_url: Some(signed.cfg.admin_consent_url()),
            tenant_id: signed.account.tenant_id.clone(),
        }));
        self.go(Some(Screen::OrchideaSecret))
    }

    /// Builds the engine for the secret path on screen 1 (a new path or
    /// secret starts a fresh engine: every step is re-checked).
    pub(super) fn connect(&mut self) -> Result<bool, Option<String>> {
        let Some(target) = self.session.target.clone() else {
            return Err(Some(
                "Choose the sandbox or your tenant on the first screen.".into(),
            ));
        };
        let connect = self.secret.connect(&self.session).ok_or(None)?;
        let creates = connect.manual.is_none();
        let choices = Choices {
            idp: connect.idp,
            ..self.last_choices()
        };
        let engine = target.engine(connect.manual, choices).map_err(Some)?;
        self.session.reset_engine();
        self.session.engine = Some(engine);
        Ok(creates)
    }

    /// The defaults a new engine starts from: what the admin chose last
    /// time (what Entra already holds still wins where it has a value).
    fn last_choices(&self) -> Choices {
        let last = &self.settings.last;
        let mut choices = Choices::default();
        if last.scope.as_deref() == Some("all") {
            choices.scope = crate::engine::Scope::All;
        }
        if last.user_name.as_deref() == Some("coalesce") {
            choices.mapping.user_name_source =
                crate::procedure::mapping::UserNameSource::CoalesceMailUpn;
        }
        choices
    }

    /// Keeps a choice for next time, when it was saved in Entra.
    fn remember_choice(&mut self, op: &Op) -> Option<Effect> {
        let last = &mut self.settings.last;
        match op {
            Op::SetScope(scope, _) => {
                last.scope = Some(
                    match scope {
                        crate::engine::Scope::All => "all",
                        crate::engine::Scope::Assigned => "assigned",
                    }
                    .into(),
                );
            }
            Op::UserNameSource(source) => {
                last.user_name = Some(
                    match source {
                        crate::procedure::mapping::UserNameSource::Mail => "mail",
                        crate::procedure::mapping::UserNameSource::CoalesceMailUpn => "coalesce",
                    }
                    .into(),
                );
            }
            _ => return None,
        }
        Some(Effect::SaveSettings(self.settings.clone()))
    }

    pub(super) fn run_remaining(&mut self) -> Vec<Effect> {
        if self.session.is_busy() || self.session.target.is_none() {
            return Vec::new();
        }
        if self.session.engine.is_none() {
            match self.connect() {
                Ok(_) => {}
                Err(Some(message)) => return self.perform(Action::Fail(message)),
                Err(None) => {
                    self.screen = Screen::OrchideaSecret;
                    return Vec::new();
                }
            }
        }
        self.session.running_all = true;
        self.perform(Action::Run(Op::RunAll))
    }

    pub(super) fn back(&mut self) -> Vec<Effect> {
        self.session.cancel();
        // A sign-in in flight was just aborted with the rest.
        self.welcome.sign_in.cancelled();
        if let Some(previous) = self.screen.previous() {
            self.screen = previous;
            self.session.selected_step = None;
            self.session.error = None;
        }
        Vec::new()
    }

    pub(super) fn go(&mut self, to: Option<Screen>) -> Vec<Effect> {
        let Some(to) = to else {
            return Vec::new();
        };
        self.screen = to;
        self.session.selected_step = None;
        self.session.error = None;
        let action = match to {
            Screen::OrchideaSecret
                if self.session.idps.is_none()
                    && self.session.target.as_ref().is_some_and(Target::has_admin) =>
            {
                Action::Run(Op::ListIdps)
            }
            Screen::Mappings => mappings::on_enter(&self.session),
            Screen::Scope => self.scope.on_enter(&self.session),
            Screen::Summary if self.session.engine.is_some() => Action::Run(Op::ListBackups),
            _ => Action::None,
        };
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
            Outcome::Sandbox(Ok(handle)) => {
                self.session.reset_engine();
                self.session.idps = None;
                self.session.target = Some(Target::Sandbox(handle.0));
                self.welcome.mode = welcome::Mode::Sandbox;
                return self.go(Some(Screen::OrchideaSecret));
            }
            Outcome::Sandbox(Err(e)) => self.fail(format!("The sandbox did not start: {e}"), op),
            Outcome::Idps(Ok(idps)) => {
                self.secret.idps_loaded(&idps);
                self.session.idps = Some(Ok(idps));
                if self.timing.mode == crate::ui::bench::BenchMode::Run {
                    return self.run_remaining();
                }
            }
            Outcome::Idps(Err(e)) => self.session.idps = Some(Err(e)),
            Outcome::SignedIn(result) => {
                // Where to sign in is saved once it worked, with the last choices.
                if let (Ok(_), Some(Op::SignIn(request))) = (&result, &op) {
                    let last = std::mem::take(&mut self.settings.last);
                    self.settings = request.settings.clone();
                    self.settings.last = last;
                    effects.push(Effect::SaveSettings(self.settings.clone()));
                }
                if let Some(e) = self.welcome.sign_in.finished(result.map(|s| *s)) {
                    self.fail(e, None);
                }
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
                let workspace = match op {
                    Some(Op::CheckOrchidea { workspace, .. }) => workspace,
                    _ => return Vec::new(),
                };
                if let Some(signed) = self.welcome.sign_in.signed_in().cloned() {
                    return self.open_tenant(&signed, Some((workspace, token)));
                }
            }
            Outcome::OrchideaChecked(Err(e)) => self.fail(e, None),
            Outcome::NoEngine => self.fail(
                "Create or paste the SCIM secret (step 1) first.".into(),
                None,
            ),
            Outcome::Users(users) => self.after_start.users_found(users),
            Outcome::Groups(groups) => self.scope.groups_loaded(groups),
            Outcome::Exported(result) => self.after_start.exported = Some(result),
            Outcome::Backups(list) => self.backups.listed(list),
            Outcome::RestorePreview(id, diff) => self.backups.previewed(id, diff),
            Outcome::Engine(result, snapshot) => {
                self.session.checklist = snapshot.facts.checklist.clone();
                self.session.absorb(&snapshot.facts);
                if matches!(op, Some(Op::RestartJob)) {
                    // Watch the new cycle closely again.
                    self.session.monitor_epoch += 1;
                }
                if matches!(op, Some(Op::Restore(_))) && result.is_ok() {
                    // The restore took a backup of what it replaced.
                    self.session.snapshot = Some(*snapshot);
                    return self.perform(Action::Run(Op::ListBackups));
                }
                self.session.snapshot = Some(*snapshot);
                match result {
                    Ok(()) => {
                        if matches!(op, Some(Op::Connect { .. })) {
                            self.secret.done();
                        }
                        if let Some(save) = op.as_ref().and_then(|op| self.remember_choice(op)) {
                            effects.push(save);
                        }
                        if ran_all && self.session.checklist.all_complete() {
                            self.screen = Screen::Summary;
                            return self.perform(Action::Run(Op::ListBackups));
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

    pub(super) fn clipboard(&mut self, message: &Message) -> Action {
        let scim = self.session.scim().cloned();
        let result = match (message, scim) {
            (Message::CopyUrl, Some(scim)) => self.session.copier.copy_text(scim.url.as_str()),
            (Message::CopySecret, Some(scim)) => match &scim.secret {
                Some(secret) => self.session.copier.copy_secret(secret, self.session.now),
                None => Ok(()),
            },
            (Message::ClearClipboard, _) => {
                let _: Expiry = self.session.copier.clear_now();
                Ok(())
            }
            _ => Ok(()),
        };
        match result {
            Ok(()) => Action::None,
            Err(e) => Action::Fail(e.to_string()),
        }
    }
}
