//! Under the backups on the summary screen: "Undo this setup". The plan is
//! read and shown first; only "Undo now" on that shown plan carries it out,
//! and the engine stops if the plan it reads then is not the one shown.

use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Fill};

use crate::engine::undo::UndoPlan;
use crate::engine::{EngineError, UndoOutcome};
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget::{self, focusable};
use crate::ui::work::{Op, Snapshot};

#[derive(Default)]
pub struct Undo {
    /// The plan as read, shown until undone or cancelled.
    plan: Option<Result<UndoPlan, EngineError>>,
    /// What the last undo did.
    done: Option<Result<UndoOutcome, EngineError>>,
}

#[derive(Debug, Clone)]
pub enum Message {
    /// Read the plan (changes nothing).
    ShowPlan,
    Cancel,
    /// Carry out the plan that is shown.
    Confirm,
    PlanRead(Result<UndoPlan, EngineError>),
    /// What undo did, and what the engine knows after it.
    Undone(Result<UndoOutcome, EngineError>, Box<Snapshot>),
}

impl Undo {
    pub fn update(&mut self, message: Message) -> Action {
        match message {
            Message::ShowPlan => {
                self.done = None;
                Action::Run(Op::UndoPlan)
            }
            Message::Cancel => {
                self.plan = None;
                Action::None
            }
            Message::PlanRead(plan) => {
                self.plan = Some(plan);
                Action::None
            }
            Message::Confirm => match &self.plan {
                Some(Ok(plan)) if !plan.actions.is_empty() => Action::Run(Op::Undo(plan.text())),
                _ => Action::Fail("Show the undo plan first, then confirm it.".into()),
            },
            Message::Undone(outcome, _) => {
                // A plan that changed since it was shown is shown again.
                self.plan = match &outcome {
                    Ok(o) if !o.confirmed => Some(Ok(o.plan.clone())),
                    _ => None,
                };
                self.done = Some(outcome);
                Action::Run(Op::ListBackups)
            }
        }
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let idle = !session.is_busy();
        let mut col = column![
            row![
                text("Undo this setup").size(17).width(Fill),
                focusable(
                    button(text("Show the undo plan").size(13))
                        .padding([4, 10])
                        .style(button::secondary)
                        .on_press_maybe(idle.then_some(Message::ShowPlan))
                ),
            ]
            .align_y(Alignment::Center),
            text(
                "Puts Entra and Orchidea back as they were before the wizard's first write: \
                 pauses the job, puts back the first backups, deletes the job and revokes the \
                 secrets only if the wizard created them. The plan is shown first."
            )
            .size(13)
            .style(theme::muted),
        ]
        .spacing(8);
        match &self.plan {
            Some(Ok(plan)) => {
                col = col.push(
                    container(text(plan.text()).size(13))
                        .padding(10)
                        .width(Fill)
                        .style(theme::tinted),
                );
                if !plan.actions.is_empty() {
                    col = col.push(
                        row![
                            focusable(
                                button(text("Undo now").size(13))
                                    .padding([4, 10])
                                    .style(button::danger)
                                    .on_press_maybe(idle.then_some(Message::Confirm))
                            ),
                            focusable(
                                button(text("Cancel").size(13))
                                    .padding([4, 10])
                                    .style(button::secondary)
                                    .on_press(Message::Cancel)
                            ),
                        ]
                        .spacing(8),
                    );
                }
            }
            Some(Err(e)) => col = col.push(widget::danger_line(e.to_string())),
            None => {}
        }
        match &self.done {
            Some(Ok(o)) if o.confirmed && !o.done.is_empty() => {
                let lines = o
                    .done
                    .iter()
                    .map(|l| text(format!("•  {l}")).size(13).into());
                col = col.push(
                    column(std::iter::once(text("Undone:").size(13).into()).chain(lines))
                        .spacing(2),
                );
            }
            Some(Ok(o)) if !o.confirmed => {
                col = col.push(widget::danger_line(
                    "Nothing was changed: what undo would do changed since the plan was shown. \
                     Read the new plan above."
                        .to_string(),
                ));
            }
            Some(Err(e)) => col = col.push(widget::danger_line(e.to_string())),
            _ => {}
        }
        container(col)
            .padding(14)
            .width(Fill)
            .style(theme::card)
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::undo::UndoAction;

    fn shown(actions: Vec<UndoAction>) -> Undo {
        let mut u = Undo::default();
        let _ = u.update(Message::PlanRead(Ok(UndoPlan {
            actions,
            ..UndoPlan::default()
        })));
        u
    }

    #[test]
    fn only_a_shown_plan_with_actions_is_carried_out() {
        let mut none = Undo::default();
        assert!(matches!(none.update(Message::Confirm), Action::Fail(_)));
        let mut empty = shown(Vec::new());
        assert!(matches!(empty.update(Message::Confirm), Action::Fail(_)));
        let pause = UndoAction::PauseJob {
            app: "sp".into(),
            job: "j".into(),
        };
        let mut u = shown(vec![pause]);
        let Action::Run(Op::Undo(text)) = u.update(Message::Confirm) else {
            panic!("runs the shown plan");
        };
        assert!(text.contains("Pause provisioning job j"), "{text}");
    }

    #[test]
    fn a_plan_that_changed_is_shown_again_not_carried_out() {
        let mut u = shown(Vec::new());
        let newer = UndoPlan {
            actions: vec![UndoAction::DeleteJob {
                app: "sp".into(),
                job: "j".into(),
            }],
            ..UndoPlan::default()
        };
        let snapshot = Snapshot {
            facts: crate::engine::Facts::default(),
            scope: crate::engine::Scope::Assigned,
            start_notice: None,
        };
        let outcome = UndoOutcome {
            plan: newer.clone(),
            confirmed: false,
            done: Vec::new(),
        };
        let _ = u.update(Message::Undone(Ok(outcome), Box::new(snapshot)));
        assert!(matches!(&u.plan, Some(Ok(p)) if *p == newer));
    }
}
