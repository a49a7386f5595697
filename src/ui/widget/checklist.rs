//! The live checklist: every step with its state, always on screen.

use iced::widget::{Space, button, column, container, progress_bar, row, scrollable, text};
use iced::{Alignment, Border, Color, Element, Fill, Length, Theme};

use super::{CHECK, ICON_FONT, focusable, one_line};
use crate::procedure::checklist::{Checklist, Status};
use crate::procedure::step::StepId;
use crate::ui::theme;

const ICON: f32 = 18.0;

/// The sidebar. Steps of the current screen are tinted; finished steps
/// can be clicked to show what they did.
pub fn checklist<'a, M: Clone + 'a>(
    list: &'a Checklist,
    current: &'static [StepId],
    selected: Option<StepId>,
    frame: usize,
    on_select: fn(StepId) -> M,
) -> Element<'a, M> {
    let done = list.completed();
    let total = StepId::ALL.len();
    let header = column![
        text("Checklist").size(18),
        text(format!("{done} of {total} steps complete"))
            .size(13)
            .style(theme::muted),
        progress_bar(0.0..=count(total), count(done))
            .girth(6)
            .style(iced::widget::progress_bar::success),
    ]
    .spacing(6);
    let rows = list.iter().map(|(step, status)| {
        let finished = status.is_complete() || status.is_failed();
        let in_view = current.contains(&step);
        let colored = move |t: &Theme| iced::widget::text::Style {
            color: Some(theme::status_color(t, status)),
        };
        let mut label = column![
            row![
                text(step.number()).size(14).width(Length::Fixed(24.0)),
                text(step.title()).size(14).width(Fill),
                text(state_word(status)).size(12).style(colored),
            ]
            .spacing(6)
            .align_y(Alignment::Center)
        ]
        .width(Fill);
        if let Status::Failed(reason) = status {
            label = label.push(text(one_line(reason)).size(12).style(colored));
        }
        // Every row takes focus, so the keyboard can read the pending steps
        // too; Enter on a finished one opens it as a click does.
        focusable(
            button(
                row![status_icon(status, frame), label]
                    .spacing(10)
                    .align_y(Alignment::Center),
            )
            .padding([4, 8])
            .width(Fill)
            .style(row_style(selected == Some(step), in_view))
            .on_press_maybe(finished.then(|| on_select(step))),
        )
        .inset()
        .into()
    });
    container(column![header, scrollable(column(rows).spacing(2)).height(Fill)].spacing(14))
        .padding(16)
        .width(Length::Fixed(330.0))
        .height(Fill)
        .style(theme::sidebar)
        .into()
}

/// What a finished step did, shown after clicking it in the checklist.
pub fn step_detail<'a, M: Clone + 'a>(
    step: StepId,
    status: &'a Status,
    close: M,
) -> Element<'a, M> {
    let did = match status {
        Status::Failed(d) => format!("Failed: {d}"),
        other => other.detail().to_string(),
    };
    container(
        column![
            row![
                text(format!("Step {}: {}", step.number(), step.title()))
                    .size(16)
                    .width(Fill),
                focusable(
                    button(text("Close").size(13))
                        .padding([4, 10])
                        .style(button::secondary)
                        .on_press(close)
                ),
            ]
            .align_y(Alignment::Center),
            text("The article says").size(12).style(theme::muted),
            text(step.instruction()).size(13),
            text(format!("What the wizard did ({})", status.label()))
                .size(12)
                .style(theme::muted),
            text(did).size(13),
        ]
        .spacing(6),
    )
    .padding(14)
    .width(Fill)
    .style(theme::card)
    .into()
}

/// A step count as the progress bar's value (there are 19 steps).
fn count(n: usize) -> f32 {
    u16::try_from(n).map_or(f32::from(u16::MAX), f32::from)
}

/// The state in words, so it never depends on colour alone.
fn state_word(status: &Status) -> &'static str {
    match status {
        Status::Pending => "",
        Status::Running(_) => "running",
        Status::Done(_) => "done",
        Status::AlreadyDone(_) => "already done",
        Status::Manual(_) => "by you",
        Status::Failed(_) => "failed",
    }
}

fn row_style(selected: bool, in_view: bool) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |t, status| {
        let mut style = theme::list_item(selected)(t, status);
        if in_view && !selected {
            let p = t.extended_palette();
            style.background = Some(p.primary.weak.color.scale_alpha(0.18).into());
        }
        style
    }
}

/// A coloured disc per state; running shows three pulsing dots.
fn status_icon<'a, M: 'a>(status: &Status, frame: usize) -> Element<'a, M> {
    let disc = |fill: fn(&Theme) -> Color, ring: fn(&Theme) -> Color| {
        move |t: &Theme| container::Style {
            background: Some(fill(t).into()),
            border: Border {
                color: ring(t),
                width: 2.0,
                radius: (ICON / 2.0).into(),
            },
            ..container::Style::default()
        }
    };
    let check = |color: fn(&Theme) -> Color| {
        text(CHECK.to_string())
            .font(ICON_FONT)
            .size(10)
            .style(move |t: &Theme| iced::widget::text::Style {
                color: Some(color(t)),
            })
    };
    let sized = |c: container::Container<'a, M>| c.width(ICON).height(ICON).center(ICON);
    match status {
        Status::Pending => {
            sized(container(Space::new()).style(disc(|_| Color::TRANSPARENT, theme::muted_color)))
                .into()
        }
        Status::Running(_) => spinner(frame),
        Status::Done(_) | Status::Manual(_) => sized(
            container(check(|t| t.extended_palette().success.base.text))
                .style(disc(|t| t.palette().success, |t| t.palette().success)),
        )
        .into(),
        Status::AlreadyDone(_) => sized(
            container(check(|t| t.palette().success))
                .style(disc(|_| Color::TRANSPARENT, |t| t.palette().success)),
        )
        .into(),
        Status::Failed(_) => sized(
            container(
                text("!")
                    .size(12)
                    .style(|t: &Theme| iced::widget::text::Style {
                        color: Some(t.extended_palette().danger.base.text),
                    }),
            )
            .style(disc(|t| t.palette().danger, |t| t.palette().danger)),
        )
        .into(),
    }
}

/// Three dots, one lit per animation frame.
pub fn spinner<'a, M: 'a>(frame: usize) -> Element<'a, M> {
    let dot = move |i: usize| {
        container(Space::new())
            .width(5)
            .height(5)
            .style(move |t: &Theme| container::Style {
                background: Some(
                    if frame % 3 == i {
                        t.palette().primary
                    } else {
                        t.palette().primary.scale_alpha(0.3)
                    }
                    .into(),
                ),
                border: Border {
                    radius: 2.5.into(),
                    ..Border::default()
                },
                ..container::Style::default()
            })
            .into()
    };
    container(row((0..3).map(dot)).spacing(1.5))
        .width(ICON)
        .height(ICON)
        .center(ICON)
        .into()
}
