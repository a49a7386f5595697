//! The window's layout: checklist on the left, the screen in the middle,
//! the nav bar at the bottom, and the close prompt over everything.

use iced::widget::{
    button, center, column, container, mouse_area, opaque, row, scrollable, stack, text,
};
use iced::{Alignment, Border, Color, Element, Fill, Theme};

use super::app::{App, Message};
use super::screen::ScreenId;
use super::session::{Pause, Session};
use super::theme;
use super::widget;
use super::work::Op;
use crate::procedure::step::StepId;

pub fn view(app: &App) -> Element<'_, Message> {
    let s = &app.session;
    let sidebar = widget::checklist(
        &s.checklist,
        app.current.steps(),
        s.selected_step,
        s.frame,
        Message::StepSelected,
    );
    let mut content = column![].spacing(18).max_width(860);
    if app.current != ScreenId::Welcome {
        content = content.push(widget::heading(
            app.current.title(),
            app.current.step_range(),
        ));
    }
    if let Some(step) = s.selected_step {
        content = content.push(widget::step_detail(
            step,
            s.checklist.status(step),
            Message::StepClosed,
        ));
    }
    if let Some(pause) = &s.pause {
        // The mappings screen shows the diff itself, the scope screen its warnings.
        let own = matches!(app.current, ScreenId::Mappings | ScreenId::Scope);
        content = content.push(pause_panel(pause, !own));
    }
    if let Some(err) = &s.error {
        content = content.push(widget::error_banner(
            &err.message,
            err.retry.as_ref().map(|_| Message::Retry),
        ));
    }
    content = content.push(
        app.page()
            .view(s, &app.after_start, &app.backups, &app.rotate),
    );
    if !app.current.steps().is_empty() {
        content = content.push(widget::step_cards(app.current.steps()));
    }
    let main = column![
        scrollable(container(content).padding(28).center_x(Fill)).height(Fill),
        container(nav(app)).padding([14, 28]).style(nav_style),
    ];
    let page: Element<'_, Message> = row![sidebar, main].into();
    if app.close_prompt {
        modal(page, close_dialog())
    } else {
        page
    }
}

fn nav(app: &App) -> Element<'_, Message> {
    let s = &app.session;
    let idle = !s.is_busy() && s.pause.is_none();
    let label = app.page().primary_label(s);
    let back = match (app.current.previous(), s.is_busy()) {
        (Some(_), _) | (None, true) => Some(Message::Back),
        (None, false) => None,
    };
    let extra: Option<Element<'_, Message>> = if s.is_busy() {
        Some(busy_line(s))
    } else if idle
        && s.target.is_some()
        && !app.current.steps().is_empty()
        && !s.checklist.all_complete()
    {
        Some(
            crate::ui::widget::focusable(
                button(text("Run the remaining steps").size(15))
                    .padding([8, 16])
                    .style(button::secondary)
                    .on_press(Message::RunRemaining),
            )
            .into(),
        )
    } else {
        None
    };
    widget::nav_bar(back, extra, label, idle.then_some(Message::Primary))
}

fn busy_line(s: &Session) -> Element<'_, Message> {
    let running_step = s
        .checklist
        .iter()
        .find(|(_, st)| matches!(st, crate::Status::Running(_)));
    let what = match (running_step, s.running.as_ref().map(|r| &r.op)) {
        _ if s.pause.is_some() => "Waiting for your answer above".to_string(),
        // A step that says what it waits for (e.g. Entra's replication) shows it.
        (Some((step, crate::Status::Running(detail))), _)
            if !detail.is_empty() && detail.as_str() != step.automation() =>
        {
            format!("Step {}: {}", step.number(), detail)
        }
        (Some((step, _)), _) => format!("Step {}: {}…", step.number(), step.title()),
        (None, Some(Op::StartSandbox(_))) => "Starting the sandbox…".to_string(),
        (None, Some(Op::ListIdps)) => "Loading the workspace's IDPs…".to_string(),
        (None, Some(Op::CheckDrift { opening: true, .. })) => {
            "Looking for an existing setup…".to_string()
        }
        (None, Some(Op::CheckDrift { .. })) => "Checking the setup…".to_string(),
        (None, _) => "Working…".to_string(),
    };
    row![
        widget::spinner(s.frame),
        text(what).size(14),
        text("Back or Esc cancels").size(13).style(theme::muted),
    ]
    .spacing(10)
    .align_y(Alignment::Center)
    .into()
}

fn pause_panel(pause: &Pause, with_detail: bool) -> Element<'_, Message> {
    let title = if pause.step == StepId::ChooseScope {
        "Paused at step 14 (Choose the scope): read the warning below. Change the scope, the \
         userName source or the assignment here, or continue as it is; nothing is saved until \
         step 15."
            .to_string()
    } else {
        format!(
            "Paused before step {} ({}). Nothing has been written for it yet.",
            pause.step.number(),
            pause.step.title()
        )
    };
    let detail = with_detail.then(|| widget::code_block(pause.detail.lines().map(str::to_string)));
    widget::notice_banner(
        column![
            text(title).size(15),
            detail,
            row![
                crate::ui::widget::focusable(
                    button(text("Continue").size(15))
                        .padding([8, 18])
                        .style(button::primary)
                        .on_press(Message::Confirmed(true))
                ),
                crate::ui::widget::focusable(
                    button(text("Stop here").size(15))
                        .padding([8, 18])
                        .style(button::secondary)
                        .on_press(Message::Confirmed(false))
                ),
            ]
            .spacing(10),
        ]
        .spacing(10),
    )
}

fn close_dialog<'a>() -> Element<'a, Message> {
    container(
        column![
            text("A change is being written").size(20),
            text(
                "The wizard is writing to Entra or Orchidea right now. If you close the \
                 window, that step may be left half done; running the wizard again \
                 checks and finishes it."
            )
            .size(14),
            row![
                crate::ui::widget::focusable(
                    button(text("Keep the window open").size(15))
                        .padding([8, 16])
                        .style(button::primary)
                        .on_press(Message::CloseAnswered(false))
                ),
                crate::ui::widget::focusable(
                    button(text("Close anyway").size(15))
                        .padding([8, 16])
                        .style(button::danger)
                        .on_press(Message::CloseAnswered(true))
                ),
            ]
            .spacing(10),
        ]
        .spacing(14),
    )
    .padding(24)
    .max_width(460)
    .style(theme::card)
    .into()
}

fn modal<'a>(base: Element<'a, Message>, content: Element<'a, Message>) -> Element<'a, Message> {
    stack![
        base,
        opaque(
            mouse_area(center(opaque(content)).style(|_| {
                container::Style {
                    background: Some(
                        Color {
                            a: 0.6,
                            ..Color::BLACK
                        }
                        .into(),
                    ),
                    ..container::Style::default()
                }
            }))
            .on_press(Message::CloseAnswered(false))
        )
    ]
    .into()
}

fn nav_style(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style {
        background: Some(p.background.base.color.into()),
        border: Border {
            color: p.background.strong.color,
            width: 1.0,
            radius: 0.0.into(),
        },
        ..container::Style::default()
    }
}
