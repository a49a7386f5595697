//! Moving through the wizard: the primary action, Back, and Next with the
//! work a screen runs as it opens.

use super::{App, Effect};
use crate::ui::screen::{self, ScreenId, welcome};
use crate::ui::session::Failure;
use crate::ui::work::Op;

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

    pub(super) fn fail(&mut self, message: String, retry: Option<Op>) {
        self.session.error = Some(Failure { message, retry });
    }
}
