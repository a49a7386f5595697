//! The drift check in the root: the first look at a target just opened
//! (the drift screen comes first only when a setup exists there), and the
//! re-check once "Fix these" ran every step.

use super::{App, Effect};
use crate::ui::screen::{self, Drift, Screen, ScreenId, drift};

impl App {
    /// A target was just opened: its usual first screen shows while the
    /// drift check reads (changing nothing) whether a setup exists.
    pub(super) fn open_checking(&mut self, usual: ScreenId) -> Vec<Effect> {
        self.current = usual;
        self.session.selected_step = None;
        self.session.error = None;
        let choices = self.last_choices();
        let action = match self.drift_screen() {
            Some(screen) => screen.opening(choices),
            None => self.page().on_enter(&self.session),
        };
        self.perform(action)
    }

    pub(super) fn drift(&mut self, message: drift::Message) -> Vec<Effect> {
        match &message {
            drift::Message::Checked {
                opening: true,
                found: Ok(None) | Err(_),
            } => {
                if let drift::Message::Checked { found: Err(e), .. } = &message {
                    // A first-time admin is not stopped here: the steps read
                    // the same tenant and show their own error in place.
                    tracing::warn!("drift check as the window opened: {e}");
                }
                // No setup here: the usual screen, as it opens.
                let action = self.page().on_enter(&self.session);
                self.perform(action)
            }
            drift::Message::Checked { .. } => {
                let _ = self.route(screen::Message::Drift(message));
                self.go(Some(ScreenId::Drift))
            }
            _ => {
                let action = self.route(screen::Message::Drift(message));
                self.perform(action)
            }
        }
    }

    /// After a run completed every step: when "Fix these" started it, back
    /// to the drift screen with a fresh check instead of the summary.
    pub(super) fn after_fix(&mut self) -> Option<Vec<Effect>> {
        let screen = self.drift_screen().filter(|s| s.is_fixing())?;
        screen.take_fixing();
        let action = screen.check_again();
        self.current = ScreenId::Drift;
        Some(self.perform(action))
    }

    fn drift_screen(&mut self) -> Option<&mut Drift> {
        match self.screens.get_mut(ScreenId::Drift.index()) {
            Some(Screen::Drift(d)) => Some(d),
            _ => None,
        }
    }
}
