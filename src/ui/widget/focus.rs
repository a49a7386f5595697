//! Keyboard focus for anything clickable: a wrapper that joins iced's
//! focus chain (Tab and Shift+Tab run `focus_next`/`focus_previous`, which
//! visit every widget reporting itself as focusable), draws a ring while
//! focused and turns Enter or Space into a click on what it wraps, so a key
//! does exactly what the mouse does, disabled buttons included.

use iced::advanced::layout::{self, Layout};
use iced::advanced::widget::{Operation, Tree, Widget, operation, tree};
use iced::advanced::{Clipboard, Shell, mouse, overlay, renderer};
use iced::keyboard::{self, key::Named};
use iced::{Border, Color, Element, Event, Length, Rectangle, Size, Theme, Vector};

use crate::ui::theme;

/// How far the ring sits outside what it surrounds.
const RING_GAP: f32 = 2.0;
const RING_WIDTH: f32 = 2.0;

/// `content` made reachable by Tab; Enter or Space clicks it.
pub fn focusable<'a, M: 'a>(content: impl Into<Element<'a, M>>) -> Focusable<'a, M> {
    Focusable {
        content: content.into(),
        inset: false,
    }
}

pub struct Focusable<'a, M> {
    content: Element<'a, M>,
    inset: bool,
}

impl<M> Focusable<'_, M> {
    /// Draws the ring inside the bounds, for rows in a scrollable list
    /// whose edges would clip a ring drawn outside.
    #[must_use]
    pub fn inset(mut self) -> Self {
        self.inset = true;
        self
    }
}

/// The focus flag kept in the widget tree, so it survives redraws.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State {
    focused: bool,
}

impl operation::Focusable for State {
    fn is_focused(&self) -> bool {
        self.focused
    }
    fn focus(&mut self) {
        self.focused = true;
    }
    fn unfocus(&mut self) {
        self.focused = false;
    }
}

/// What a focused wrapper does with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reaction {
    /// Enter or Space: click the content.
    Activate,
    /// A mouse press: the mouse is in use, so the ring goes away (as a
    /// browser's `:focus-visible`), and the press goes on to the content.
    Blur,
    Pass,
}

fn react(focused: bool, event: &Event) -> Reaction {
    match event {
        Event::Keyboard(keyboard::Event::KeyPressed { key, .. })
            if focused
                && matches!(
                    key.as_ref(),
                    keyboard::Key::Named(Named::Enter | Named::Space)
                ) =>
        {
            Reaction::Activate
        }
        Event::Mouse(mouse::Event::ButtonPressed(_)) if focused => Reaction::Blur,
        _ => Reaction::Pass,
    }
}

/// Where the ring goes around `bounds`.
fn ring_bounds(bounds: Rectangle, inset: bool) -> Rectangle {
    if inset {
        bounds
    } else {
        bounds.expand(RING_GAP + RING_WIDTH)
    }
}

impl<M> Widget<M, Theme, iced::Renderer> for Focusable<'_, M> {
    fn size(&self) -> Size<Length> {
        self.content.as_widget().size()
    }

    fn size_hint(&self) -> Size<Length> {
        self.content.as_widget().size_hint()
    }

    fn tag(&self) -> tree::Tag {
        tree::Tag::of::<State>()
    }

    fn state(&self) -> tree::State {
        tree::State::new(State::default())
    }

    fn children(&self) -> Vec<Tree> {
        vec![Tree::new(&self.content)]
    }

    fn diff(&self, tree: &mut Tree) {
        tree.diff_children(std::slice::from_ref(&self.content));
    }

    fn layout(
        &mut self,
        tree: &mut Tree,
        renderer: &iced::Renderer,
        limits: &layout::Limits,
    ) -> layout::Node {
        self.content
            .as_widget_mut()
            .layout(&mut tree.children[0], renderer, limits)
    }

    fn operate(
        &mut self,
        tree: &mut Tree,
        layout: Layout<'_>,
        renderer: &iced::Renderer,
        operation: &mut dyn Operation,
    ) {
        operation.focusable(None, layout.bounds(), tree.state.downcast_mut::<State>());
        operation.traverse(&mut |operation| {
            self.content.as_widget_mut().operate(
                &mut tree.children[0],
                layout,
                renderer,
                operation,
            );
        });
    }

    fn update(
        &mut self,
        tree: &mut Tree,
        event: &Event,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        renderer: &iced::Renderer,
        clipboard: &mut dyn Clipboard,
        shell: &mut Shell<'_, M>,
        viewport: &Rectangle,
    ) {
        let state = tree.state.downcast_mut::<State>();
        match react(state.focused, event) {
            Reaction::Activate => {
                // A press and a release at the centre, each in its own shell:
                // a button captures the press, and would ignore a release
                // arriving in a shell already marked captured.
                let at = mouse::Cursor::Available(layout.bounds().center());
                for click in [
                    mouse::Event::ButtonPressed(mouse::Button::Left),
                    mouse::Event::ButtonReleased(mouse::Button::Left),
                ] {
                    let mut published = Vec::new();
                    let mut inner = Shell::new(&mut published);
                    self.content.as_widget_mut().update(
                        &mut tree.children[0],
                        &Event::Mouse(click),
                        layout,
                        at,
                        renderer,
                        clipboard,
                        &mut inner,
                        viewport,
                    );
                    shell.merge(inner, std::convert::identity);
                }
                shell.capture_event();
                shell.request_redraw();
                return;
            }
            Reaction::Blur => {
                state.focused = false;
                shell.request_redraw();
            }
            Reaction::Pass => {}
        }
        self.content.as_widget_mut().update(
            &mut tree.children[0],
            event,
            layout,
            cursor,
            renderer,
            clipboard,
            shell,
            viewport,
        );
    }

    fn draw(
        &self,
        tree: &Tree,
        renderer: &mut iced::Renderer,
        theme: &Theme,
        style: &renderer::Style,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        viewport: &Rectangle,
    ) {
        self.content.as_widget().draw(
            &tree.children[0],
            renderer,
            theme,
            style,
            layout,
            cursor,
            viewport,
        );
        if tree.state.downcast_ref::<State>().focused {
            use iced::advanced::Renderer as _;
            renderer.fill_quad(
                renderer::Quad {
                    bounds: ring_bounds(layout.bounds(), self.inset),
                    border: Border {
                        color: theme::focus_ring(theme),
                        width: RING_WIDTH,
                        radius: 6.0.into(),
                    },
                    ..renderer::Quad::default()
                },
                Color::TRANSPARENT,
            );
        }
    }

    fn mouse_interaction(
        &self,
        tree: &Tree,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        viewport: &Rectangle,
        renderer: &iced::Renderer,
    ) -> mouse::Interaction {
        self.content.as_widget().mouse_interaction(
            &tree.children[0],
            layout,
            cursor,
            viewport,
            renderer,
        )
    }

    fn overlay<'b>(
        &'b mut self,
        tree: &'b mut Tree,
        layout: Layout<'b>,
        renderer: &iced::Renderer,
        viewport: &Rectangle,
        translation: Vector,
    ) -> Option<overlay::Element<'b, M, Theme, iced::Renderer>> {
        self.content.as_widget_mut().overlay(
            &mut tree.children[0],
            layout,
            renderer,
            viewport,
            translation,
        )
    }
}

impl<'a, M: 'a> From<Focusable<'a, M>> for Element<'a, M> {
    fn from(focusable: Focusable<'a, M>) -> Self {
        Element::new(focusable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced::advanced::widget::operation::Focusable as _;

    fn key(named: Named) -> Event {
        Event::Keyboard(keyboard::Event::KeyPressed {
            key: keyboard::Key::Named(named),
            modified_key: keyboard::Key::Named(named),
            physical_key: keyboard::key::Physical::Unidentified(
                keyboard::key::NativeCode::Unidentified,
            ),
            location: keyboard::Location::Standard,
            modifiers: keyboard::Modifiers::empty(),
            text: None,
            repeat: false,
        })
    }

    #[test]
    fn enter_and_space_activate_only_while_focused() {
        for named in [Named::Enter, Named::Space] {
            assert_eq!(react(true, &key(named)), Reaction::Activate);
            assert_eq!(react(false, &key(named)), Reaction::Pass);
        }
        assert_eq!(react(true, &key(Named::Tab)), Reaction::Pass);
        assert_eq!(react(true, &key(Named::Escape)), Reaction::Pass);
    }

    #[test]
    fn a_mouse_press_hides_the_ring() {
        let press = Event::Mouse(mouse::Event::ButtonPressed(mouse::Button::Left));
        assert_eq!(react(true, &press), Reaction::Blur);
        assert_eq!(react(false, &press), Reaction::Pass);
    }

    #[test]
    fn the_ring_sits_outside_unless_inset() {
        let b = Rectangle::new(iced::Point::new(10.0, 10.0), Size::new(40.0, 20.0));
        assert_eq!(ring_bounds(b, true), b);
        let out = ring_bounds(b, false);
        assert!(out.contains(iced::Point::new(7.0, 7.0)) && out.width > b.width);
    }

    #[test]
    fn state_follows_the_focus_operations() {
        let mut s = State::default();
        assert!(!s.is_focused());
        s.focus();
        assert!(s.is_focused());
        s.unfocus();
        assert!(!s.is_focused());
    }
}
