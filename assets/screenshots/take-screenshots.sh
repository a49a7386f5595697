#!/bin/sh
# Takes the screenshots in this folder: the release binary under Xvfb, driven
# with the keyboard only (Enter = primary button, Down = next choice).
# Needs: xvfb xdotool x11-apps imagemagick. Run from the crate root after
# `cargo build --release`.
set -eu

BIN=${BIN:-target/release/orchidea-wizard}
OUT=${OUT:-assets/screenshots}
DISPLAY_NUM=${DISPLAY_NUM:-:97}
export DISPLAY=$DISPLAY_NUM

# The window's default size, so the shot is exactly the window.
Xvfb "$DISPLAY" -screen 0 1120x780x24 -nolisten tcp >/dev/null 2>&1 &
XVFB=$!
APP=
cleanup() {
    [ -n "$APP" ] && kill "$APP" 2>/dev/null || true
    kill "$XVFB" 2>/dev/null || true
}
trap cleanup EXIT
sleep 1

shot() {
    sleep "${2:-0.6}"
    xwd -root -silent | convert xwd:- "png:$OUT/$1.png"
    echo "$OUT/$1.png"
}

# Waits until the window title contains $1 (the screen's title).
wait_for() {
    i=0
    until xdotool search --name "$1" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -gt 100 ] && { echo "timed out waiting for $1" >&2; exit 1; }
        sleep 0.1
    done
}

key() {
    xdotool key "$1"
    sleep 0.3
}

# Without a window manager nothing gives the window keyboard focus.
# The pointer goes to a corner so no button is shown hovered.
focus() {
    xdotool search --name "Orchidea SCIM Setup" | head -1 | xargs xdotool windowfocus --sync
    xdotool mousemove 1 1
}

start() {
    ICED_BACKEND=tiny-skia "$BIN" "$@" >/dev/null 2>&1 &
    APP=$!
}

mkdir -p "$OUT"

# First screen, as `cargo run` opens it; the window must appear within a second.
before=$(date +%s%N)
start
wait_for "Orchidea SCIM Setup"
after=$(date +%s%N)
xdotool mousemove 1 1
echo "window after $(( (after - before) / 1000000 )) ms"
shot 01-welcome
kill "$APP"; APP=; sleep 0.5

# --sandbox: straight into the sandbox, then the whole flow by keyboard.
start --sandbox
wait_for "Orchidea SCIM secret"
focus
shot 02-orchidea-secret 1
key Return                      # Create SCIM secret (1a–1c)
shot 03-orchidea-secret-done 1.5
key Return                      # Next
wait_for "Choose the enterprise application"
key Down                        # select the app that can provision
shot 04-choose-app
key Return                      # Use this app (2)
sleep 1
key Return                      # Next
wait_for "Provisioning mode and credentials"
key Return                      # Test connection (3–5)
shot 05-credentials 2
key Return                      # Next
wait_for "Save the credentials"
key Return                      # Save credentials (6)
shot 06-save 1.5
key Return                      # Next: reads the mapping (7–8)
wait_for "Attribute mappings"
shot 07-mappings-diff 1.5
key Return                      # Apply (9–13)
sleep 1.5
key Return                      # Next
wait_for "Scope"
shot 08-scope
key Return                      # Save scope (14–15)
sleep 1.5
key Return                      # Next
wait_for "Start provisioning"
shot 09-start
key Return                      # Start provisioning now (16)
shot 10-started 3
key Return                      # Finish
wait_for "Summary"
shot 11-summary
