//! What finished work changes in the root: the target (sandbox, sign-in),
//! the session's facts after engine steps, and the error banner. Results
//! for one screen or panel go on to it as its own message.

use super::{Action, App, Effect, Message};
use crate::ui::screen::{self, ScreenId, orchidea_secret, welcome};
use crate::ui::work::{Op, Outcome, Target};

impl App {
    pub(super) fn finished(&mut self, id: u64, outcome: Outcome) -> Vec<Effect> {
        if !self.is_current(id) {
            return Vec::new();
        }
        let op = self.session.running.take().map(|r| r.op);
        let ran_all = std::mem::take(&mut self.session.running_all);
        self.session.pause = None;
        if let Some(choice) = self.session.after_pause.take() {
            // The run stopped at step 14 for a choice made there: the
            // choice runs now, and the run goes on after it.
            if let Outcome::Engine(_, snapshot) = outcome {
                self.session.checklist = snapshot.facts.checklist.clone();
                self.session.absorb(&snapshot.facts);
                self.session.snapshot = Some(*snapshot);
            }
            self.session.resume_all = ran_all;
            return self.perform(Action::Run(choice));
        }
        let resume = std::mem::take(&mut self.session.resume_all);
        let mut effects = Vec::new();
        match outcome {
            Outcome::Reply(message) => {
                let idps = matches!(
                    &*message,
                    Message::Secret(orchidea_secret::Message::IdpsLoaded(Ok(_)))
                );
                effects = self.handle(*message);
                if resume {
                    effects.extend(self.run_remaining());
                }
                if idps && self.timing.mode == crate::ui::bench::BenchMode::Run {
                    effects.extend(self.run_remaining());
                }
            }
            Outcome::Sandbox(Ok(handle)) => {
                self.session.reset_engine();
                self.session.idps = None;
                self.session.target = Some(Target::Sandbox(handle.0));
                let _ = self.route(screen::Message::Welcome(welcome::Message::SandboxStarted));
                return self.open_checking(ScreenId::Sso);
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
            Outcome::OrchideaChecked(Err(e)) => self.fail(e.to_string(), None),
            Outcome::NoEngine => self.fail(
                "Create or paste the SCIM secret (step 1) first.".into(),
                None,
            ),
            Outcome::Engine(result, snapshot) => {
                self.session.checklist = snapshot.facts.checklist.clone();
                self.session.absorb(&snapshot.facts);
                if matches!(op, Some(Op::Sso(_))) {
                    let ran = screen::sso::Message::Ran(Box::new(snapshot.facts.clone()));
                    let _ = self.route(screen::Message::Sso(ran));
                }
                if let (Some(Op::Sso(_)), Some(idp)) = (&op, &snapshot.facts.idp) {
                    // Step 1b offers the IDP step 0 found or made, chosen.
                    self.session.idps = None;
                    let chosen = orchidea_secret::Message::IdpSelected(idp.id.clone());
                    let _ = self.route(screen::Message::Secret(chosen));
                }
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
                        let not_needed = matches!(
                            self.session.checklist.status(crate::StepId::SsoIntegration),
                            crate::Status::AlreadyDone(_)
                        );
                        if matches!(op, Some(Op::Sso(_))) && not_needed && !ran_all {
                            // Step 0 is not needed here: its screen is skipped.
                            if self.current == ScreenId::Sso {
                                return self.go(ScreenId::Sso.next());
                            }
                        }
                        if matches!(op, Some(Op::Connect { .. })) {
                            let done = orchidea_secret::Message::Connected;
                            let _ = self.route(screen::Message::Secret(done));
                        }
                        if let Some(save) = op.as_ref().and_then(|op| self.remember_choice(op)) {
                            effects.push(save);
                        }
                        if resume {
                            effects.extend(self.run_remaining());
                            return effects;
                        }
                        if ran_all && self.session.checklist.all_complete() {
                            if let Some(check) = self.after_fix() {
                                effects.extend(check);
                                return effects;
                            }
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
}
