//! The first screen when a setup already exists: the drift check
//! (read-only), each check ticked or its differences named with the step
//! that fixes it. "Fix these" runs the wizard's steps, each of which
//! re-checks and rewrites only what differs; the check runs again after.

use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Fill, Length};

use crate::engine::drift::{CheckResult, DriftReport, Finding};
use crate::engine::{Engine, EngineError};
use crate::setup::{Choices, OrchideaAccess};
use crate::ui::screen::{Action, ScreenId};
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget::{self, focusable};
use crate::ui::work::{Op, Target, TargetError};

/// What the last check found, and whether "Fix these" is under way.
#[derive(Default)]
pub struct Drift {
    report: Option<DriftReport>,
    error: Option<DriftError>,
    /// "Fix these" started a run: the check runs again once it completes.
    fixing: bool,
    /// The choices the opening check used; a re-check uses them again.
    choices: Choices,
}

#[derive(Debug, Clone)]
pub enum Message {
    /// What the check found. `Ok(None)` (the opening check only): no setup
    /// exists for this tenant, so the window goes on as usual.
    Checked {
        opening: bool,
        found: Result<Option<DriftReport>, DriftError>,
    },
    CheckAgain,
    /// Run the steps that fix the differences (the primary button too).
    Fix,
    /// On to the checklist, or to the summary once every step is complete.
    WayOn,
}

/// Why the check could not be done.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DriftError {
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("The drift check could not read the setup: {0}")]
    Engine(#[from] EngineError),
}

impl Drift {
    pub fn update(&mut self, message: Message, session: &Session) -> Action {
        match message {
            Message::Checked { found, .. } => {
                match found {
                    Ok(report) => {
                        self.report = report;
                        self.error = None;
                    }
                    Err(e) => self.error = Some(e),
                }
                Action::None
            }
            Message::CheckAgain => {
                self.fixing = false;
                self.check_again()
            }
            Message::Fix => self.primary(session),
            Message::WayOn => Action::Go(way_on(session)),
        }
    }

    /// The opening check for a target just opened (the root decides what
    /// its answer means).
    pub fn opening(&mut self, choices: Choices) -> Action {
        *self = Self {
            choices: choices.clone(),
            ..Self::default()
        };
        Action::Run(Op::CheckDrift {
            opening: true,
            choices: Box::new(choices),
        })
    }

    /// A re-check, with the choices of the opening one.
    pub fn check_again(&self) -> Action {
        Action::Run(Op::CheckDrift {
            opening: false,
            choices: Box::new(self.choices.clone()),
        })
    }

    /// How many differences the last check named.
    pub fn differences(&self) -> usize {
        self.report.as_ref().map_or(0, |r| r.findings().count())
    }

    /// How many of them a run fixes (each names a step; rotating the
    /// secret is not a step).
    pub fn fixable(&self) -> usize {
        self.report.as_ref().map_or(0, |r| {
            r.findings().filter(|f| f.fix.step().is_some()).count()
        })
    }

    /// Whether a "Fix these" run is waiting to be checked again.
    pub fn is_fixing(&self) -> bool {
        self.fixing
    }

    /// The run it waited for completed.
    pub fn take_fixing(&mut self) -> bool {
        std::mem::take(&mut self.fixing)
    }

    pub fn primary(&mut self, session: &Session) -> Action {
        if self.fixable() > 0 {
            self.fixing = true;
            Action::RunRemaining
        } else {
            Action::Go(way_on(session))
        }
    }

    pub fn primary_label(&self, session: &Session) -> &'static str {
        if self.fixable() > 0 {
            "Fix these"
        } else if way_on(session) == ScreenId::Summary {
            "Go to the summary"
        } else {
            "Go to the steps"
        }
    }

    /// The check, and "Rotate secret" under it when only rotation fixes a
    /// difference (or a rotation from here just ran).
    pub fn page<'a>(
        &'a self,
        session: &'a Session,
        rotate: &'a crate::ui::panel::rotate::Rotate,
    ) -> Element<'a, crate::ui::app::Message> {
        let view = self.view(session).map(crate::ui::app::Message::Drift);
        if rotate.has_result()
            || self
                .report
                .as_ref()
                .is_some_and(DriftReport::needs_rotation)
        {
            column![
                view,
                rotate.view(session).map(crate::ui::app::Message::Rotate)
            ]
            .spacing(16)
            .into()
        } else {
            view
        }
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let idle = !session.is_busy();
        let mut page = column![].spacing(16).width(Fill);
        if let Some(e) = &self.error {
            page = page.push(widget::error_banner(
                e.to_string(),
                idle.then_some(Message::CheckAgain),
            ));
        }
        let Some(report) = &self.report else {
            return page.into();
        };
        let count = report.findings().count();
        page = page.push(if count == 0 {
            widget::success_banner(format!(
                "All {} checks hold: the setup matches Orchidea's specification.",
                report.checks.len()
            ))
        } else {
            let mut lines = column![
                text(format!(
                    "{count} difference{} from Orchidea's specification.",
                    plural(count)
                ))
                .size(16)
            ]
            .spacing(4);
            if self.fixable() > 0 {
                lines = lines.push(
                    text(
                        "\u{201c}Fix these\u{201d} runs the wizard's steps again: each one \
                         re-checks and rewrites only what differs, with a backup first, and \
                         pauses before it rewrites the mappings.",
                    )
                    .size(14),
                );
            }
            if report.needs_rotation() {
                lines = lines.push(
                    text(
                        "No step renews the SCIM secret: \u{201c}Rotate secret\u{201d} below \
                         replaces it without stopping provisioning.",
                    )
                    .size(14),
                );
            }
            widget::notice_banner(lines)
        });
        let mut intro = String::from(
            "A setup already exists for this tenant, so the wizard compared it with \
             Orchidea's specification first. The check only reads: nothing was changed.",
        );
        if self.fixable() > 0 && !session.checklist.all_complete() {
            intro.push_str(" The checklist on the left fills in as the steps run again.");
        }
        page = page.push(text(intro).size(14));
        // The reference and the secondary actions above the list, so they
        // stay in view however many differences follow.
        let small = |label: &'static str, message: Message| {
            focusable(
                button(text(label).size(13))
                    .padding([5, 12])
                    .style(button::secondary)
                    .on_press_maybe(idle.then_some(message)),
            )
        };
        let mut bar = row![
            text(ids(report).unwrap_or_default())
                .size(12)
                .style(theme::muted)
                .width(Fill),
            small("Check again", Message::CheckAgain),
        ]
        .spacing(10)
        .align_y(Alignment::Center);
        if self.fixable() > 0 {
            let label = match way_on(session) {
                ScreenId::Summary => "Go to the summary",
                _ => "Go to the steps",
            };
            bar = bar.push(small(label, Message::WayOn));
        }
        page = page.push(bar);
        page.push(column(report.checks.iter().map(check_card)).spacing(10))
            .into()
    }
}

/// The checklist from its first screen (step 0's, which checks as it opens
/// and is skipped when not needed), or the summary once a run completed it.
fn way_on(session: &Session) -> ScreenId {
    if session.checklist.all_complete() {
        ScreenId::Summary
    } else {
        ScreenId::Sso
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The app and job the check read, for reference.
fn ids(report: &DriftReport) -> Option<String> {
    match (&report.app_id, &report.job_id) {
        (Some(app), Some(job)) => Some(format!("Enterprise app {app}, provisioning job {job}.")),
        (Some(app), None) => Some(format!("Enterprise app {app}.")),
        _ => None,
    }
}

fn check_card(check: &CheckResult) -> Element<'_, Message> {
    let mark: Element<'_, Message> = if check.ok {
        text(widget::CHECK.to_string())
            .font(widget::ICON_FONT)
            .size(13)
            .style(theme::success_text)
            .into()
    } else {
        text("!").size(15).style(theme::danger_text).into()
    };
    let status = if check.ok {
        text("holds").size(13).style(theme::success_text)
    } else {
        let n = check.findings.len();
        text(format!("{n} difference{}", plural(n)))
            .size(13)
            .style(theme::danger_text)
    };
    let mut card = column![
        row![
            container(mark)
                .width(Length::Fixed(18.0))
                .center_x(Length::Fixed(18.0)),
            text(check.label).size(15).width(Fill),
            status,
        ]
        .spacing(8)
        .align_y(Alignment::Center)
    ]
    .spacing(8);
    for finding in &check.findings {
        card = card.push(finding_lines(finding));
    }
    container(card)
        .padding([10, 14])
        .width(Fill)
        .style(theme::card)
        .into()
}

fn finding_lines(f: &Finding) -> Element<'_, Message> {
    let label = |l: &'static str| {
        text(l)
            .size(13)
            .style(theme::muted)
            .width(Length::Fixed(90.0))
    };
    let line = |l: &'static str, value: String| {
        row![label(l), text(value).size(13).width(Fill)].spacing(8)
    };
    column![
        text(widget::clip(&f.what, 120)).size(14),
        line("Expected", widget::clip(&f.expected, 300)),
        line("Found", widget::clip(&f.found, 300)),
        line("Fixed by", f.fix.describe()),
    ]
    .spacing(3)
    .padding(iced::Padding {
        left: 26.0,
        ..iced::Padding::ZERO
    })
    .into()
}

/// The check, off the UI thread. On the opening check a report is only
/// returned when a setup exists: Entra holds the Orchidea app with a
/// provisioning job, or the run state says a run completed on this app.
pub async fn check(
    target: Option<Target>,
    choices: Choices,
    opening: bool,
) -> Result<Option<DriftReport>, DriftError> {
    let target = target.ok_or(TargetError::NoTarget)?;
    let engine = engine_for_check(&target, choices)?;
    let report = engine.check_drift().await?;
    if opening && !setup_exists(&engine, &report) {
        return Ok(None);
    }
    Ok(Some(report))
}

fn setup_exists(engine: &Engine, report: &DriftReport) -> bool {
    let cfg = engine.config();
    let completed_here = cfg
        .run_state
        .as_deref()
        .and_then(crate::engine::resume::load)
        .filter(|s| crate::engine::backup::same_graph(&s.graph_url, cfg.graph.base().as_str()))
        // The run-state file is one per machine: only this tenant's app counts.
        .is_some_and(|s| s.complete() && s.app_id.is_some() && s.app_id == report.app_id);
    report.job_id.is_some() || completed_here
}

/// An engine that only reads: it needs Graph, not Orchidea's admin API.
pub(crate) fn engine_for_check(target: &Target, choices: Choices) -> Result<Engine, TargetError> {
    match target {
        Target::Sandbox(_) => target.engine(None, choices),
        Target::Tenant(t) => Ok(Engine::new(t.config(OrchideaAccess::NotNeeded, choices)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::drift::{Snapshot, compare};
    use crate::platform::clipboard::{Copier, MemoryClipboard};

    fn session() -> Session {
        Session::new(Copier::new(Box::new(MemoryClipboard::default())))
    }

    /// No app found: one difference (the job check), fixed by step 2.
    fn with_difference() -> DriftReport {
        compare(&Snapshot::default())
    }

    #[test]
    fn differences_make_fix_these_the_primary_and_it_runs_the_steps() {
        let s = session();
        let mut screen = Drift::default();
        let _ = screen.update(
            Message::Checked {
                opening: true,
                found: Ok(Some(with_difference())),
            },
            &s,
        );
        assert_eq!(screen.differences(), 1);
        assert_eq!(screen.primary_label(&s), "Fix these");
        assert!(matches!(screen.primary(&s), Action::RunRemaining));
        assert!(screen.is_fixing(), "the check runs again after the run");
        // "Check again" forgets the fix in progress and only reads.
        let again = screen.update(Message::CheckAgain, &s);
        assert!(matches!(
            again,
            Action::Run(Op::CheckDrift { opening: false, .. })
        ));
        assert!(!screen.is_fixing());
    }

    #[test]
    fn a_difference_only_rotation_fixes_does_not_offer_a_run() {
        let s = session();
        let mut report = with_difference();
        for c in &mut report.checks {
            for f in &mut c.findings {
                f.fix = crate::engine::drift::Remedy::RotateSecret;
            }
        }
        let mut screen = Drift::default();
        let _ = screen.update(
            Message::Checked {
                opening: true,
                found: Ok(Some(report)),
            },
            &s,
        );
        assert_eq!((screen.differences(), screen.fixable()), (1, 0));
        assert_eq!(screen.primary_label(&s), "Go to the steps");
        assert!(matches!(screen.primary(&s), Action::Go(_)));
        assert!(!screen.is_fixing());
    }

    #[test]
    fn without_differences_the_primary_leads_on_to_the_steps() {
        let s = session();
        let mut report = with_difference();
        report.checks.iter_mut().for_each(|c| {
            c.findings.clear();
            c.ok = true;
        });
        report.ok = true;
        let mut screen = Drift::default();
        let _ = screen.update(
            Message::Checked {
                opening: false,
                found: Ok(Some(report)),
            },
            &s,
        );
        assert_eq!(screen.primary_label(&s), "Go to the steps");
        assert!(matches!(screen.primary(&s), Action::Go(ScreenId::Sso)));
        assert!(!screen.is_fixing());
    }
}
