#!/bin/sh
# The README's test command: `sh tests/run.sh [cargo test arguments]`.
#
# A fresh clone needs a few programs beside Rust: the clipboard tests start
# Xvfb and xclip, the credential-store tests a private D-Bus with
# gnome-keyring (driven by secret-tool), and the SCIM conformance test a
# pinned third-party checker in a Python venv under .tools/. This script
# installs what is missing (Debian/Ubuntu, as root or with sudo), otherwise
# says exactly what to install and stops; then it runs `cargo test`.
# Idempotent: when everything is present it only looks, in well under a second.
set -eu
cd "$(dirname "$0")/.."

# program:Debian package (the first package that apt knows is used when a
# program has alternatives: dbus-send moved from dbus to dbus-bin).
programs="Xvfb:xvfb xauth:xauth xclip:xclip dbus-daemon:dbus-daemon|dbus dbus-send:dbus-bin|dbus gnome-keyring-daemon:gnome-keyring secret-tool:libsecret-tools python3:python3"

missing_programs=""
missing_packages=""
for entry in $programs; do
  program=${entry%%:*}
  packages=${entry#*:}
  command -v "$program" >/dev/null 2>&1 && continue
  missing_programs="$missing_programs $program"
  chosen=${packages%%|*}
  if command -v apt-cache >/dev/null 2>&1; then
    for p in $(echo "$packages" | tr '|' ' '); do
      if apt-cache show "$p" >/dev/null 2>&1; then chosen=$p; break; fi
    done
  fi
  case " $missing_packages " in *" $chosen "*) ;; *) missing_packages="$missing_packages $chosen" ;; esac
done
# The venv module is a package of its own on Debian.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing_programs="$missing_programs python3-venv"
  missing_packages="$missing_packages python3-venv"
fi

tell() {
  echo "tests/run.sh: the tests need these programs, which are missing:$missing_programs" >&2
  echo "  Debian/Ubuntu packages:$missing_packages" >&2
  echo "  Fedora: dnf install xorg-x11-server-Xvfb xorg-x11-xauth xclip dbus-daemon dbus-tools gnome-keyring libsecret python3" >&2
  echo "Install them and run this again (or run \`cargo test\` yourself: the clipboard, credential-store and SCIM checker tests will fail)." >&2
  exit 1
}
if [ -n "$missing_packages" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || command -v sudo >/dev/null 2>&1; }; then
    echo "tests/run.sh: installing$missing_packages (for$missing_programs)"
    $sudo apt-get update -qq || tell
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing_packages >/dev/null || tell
  else
    tell
  fi
fi

# The third-party SCIM conformance checker (scim2-tester through scim2-cli's
# `scim2 test`) that the SCIM conformance test runs against the sandbox's SCIM
# server: a project-local venv with every package pinned, rebuilt only when
# the pins change.
venv=.tools/scim-tester
req=.ci/scim-tester-requirements.txt
# A venv is tied to its folder: one copied or moved from elsewhere keeps
# scripts whose first line names the old place, so it is rebuilt too.
if ! cmp -s "$req" "$venv/requirements.txt" || [ ! -x "$venv/bin/scim2" ] \
  || [ "$(head -n 1 "$venv/bin/scim2")" != "#!$(pwd -P)/$venv/bin/python3" ]; then
  echo "tests/run.sh: installing the SCIM conformance checker into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  cp "$req" "$venv/requirements.txt"
fi

[ "${1:-}" = "--deps-only" ] && exit 0
exec cargo test "$@"
