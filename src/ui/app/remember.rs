//! What the admin chose last time: a new engine starts from it, and a
//! choice saved in Entra is kept for next time.

use super::{App, Effect};
use crate::engine::Scope;
use crate::procedure::mapping::UserNameSource;
use crate::setup::Choices;
use crate::ui::work::Op;

impl App {
    /// The defaults a new engine starts from: what the admin chose last
    /// time (what Entra already holds still wins where it has a value).
    pub(super) fn last_choices(&self) -> Choices {
        let last = &self.settings.last;
        let mut choices = Choices::default();
        if last.scope.as_deref() == Some("all") {
            choices.scope = Scope::All;
        }
        if last.user_name.as_deref() == Some("coalesce") {
            choices.mapping.user_name_source = UserNameSource::CoalesceMailUpn;
        }
        choices
    }

    /// Keeps a choice for next time, when it was saved in Entra.
    pub(super) fn remember_choice(&mut self, op: &Op) -> Option<Effect> {
        let last = &mut self.settings.last;
        match op {
            Op::SetScope(scope, _) => {
                let name = match scope {
                    Scope::All => "all",
                    Scope::Assigned => "assigned",
                };
                last.scope = Some(name.into());
            }
            Op::UserNameSource(source) => {
                let name = match source {
                    UserNameSource::Mail => "mail",
                    UserNameSource::CoalesceMailUpn => "coalesce",
                };
                last.user_name = Some(name.into());
            }
            _ => return None,
        }
        Some(Effect::SaveSettings(self.settings.clone()))
    }
}
