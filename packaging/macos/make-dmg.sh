#!/usr/bin/env bash
# Builds "Orchidea SCIM Setup.app" and a .dmg holding it, on macOS.
#
#   packaging/macos/make-dmg.sh              # universal (Apple silicon + Intel)
#   TARGETS=aarch64-apple-darwin packaging/macos/make-dmg.sh   # one architecture
#   NO_BUILD=1 packaging/macos/make-dmg.sh   # binaries already in target/<triple>/dist
#   SIGN_IDENTITY="Developer ID Application: …" packaging/macos/make-dmg.sh
#
# Needs Xcode's command line tools (lipo, codesign, hdiutil) and the rustup
# targets in TARGETS. Output: target/macos/. Without SIGN_IDENTITY the app is
# signed ad hoc: it runs on the machine that built it, and elsewhere only after
# the user allows it (right-click, Open). Distribution needs a Developer ID
# signature and notarisation (packaging/README.md).
#
# --app-only stops after the .app (no lipo, codesign or hdiutil needed when
# TARGETS names one target): that part also runs on Linux, to check the layout.
set -euo pipefail
cd "$(dirname "$0")/../.."

app_only=""
[ "${1:-}" = "--app-only" ] && app_only=yes

name="Orchidea SCIM Setup"
read -r -a targets <<<"${TARGETS:-aarch64-apple-darwin x86_64-apple-darwin}"
# Matches LSMinimumSystemVersion in Info.plist.
export MACOSX_DEPLOYMENT_TARGET=11.0

pkgid=$(cargo pkgid)
version=${pkgid##*[#@]}
out=target/macos
app="$out/$name.app"

# 1. Dist binaries (Cargo.toml's packaging profile), one per architecture (NO_BUILD=1 takes them as built).
if [ -z "${NO_BUILD:-}" ]; then
  for t in "${targets[@]}"; do
    cargo build --profile dist --locked --target "$t" --bin orchidea-wizard --bin orchidea-wizard-cli
  done
fi

# 2. The bundle: Info.plist with the crate's version, both binaries, the icon,
# the licence texts.
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
sed "s/@VERSION@/$version/g" packaging/macos/Info.plist >"$app/Contents/Info.plist"
printf 'APPL????' >"$app/Contents/PkgInfo"
cp assets/icons/AppIcon.icns "$app/Contents/Resources/AppIcon.icns"
# Inside the bundle (covered by its signature) and, below, beside it in the .dmg.
cp LICENSE-MIT LICENSE-APACHE "$app/Contents/Resources/"
for bin in orchidea-wizard orchidea-wizard-cli; do
  slices=()
  for t in "${targets[@]}"; do slices+=("target/$t/dist/$bin"); done
  if [ ${#slices[@]} -eq 1 ]; then
    cp "${slices[0]}" "$app/Contents/MacOS/$bin"
  else
    lipo -create -output "$app/Contents/MacOS/$bin" "${slices[@]}"
  fi
done
echo "make-dmg: $app ($version)"
[ -n "$app_only" ] && exit 0

# 3. Signature: Developer ID with the hardened runtime, or ad hoc.
if [ -n "${SIGN_IDENTITY:-}" ]; then
  codesign --force --options runtime --timestamp --sign "$SIGN_IDENTITY" \
    "$app/Contents/MacOS/orchidea-wizard-cli"
  codesign --force --options runtime --timestamp --sign "$SIGN_IDENTITY" "$app"
else
  codesign --force --sign - "$app/Contents/MacOS/orchidea-wizard-cli"
  codesign --force --sign - "$app"
fi
codesign --verify --strict --verbose=2 "$app"

# 4. The disk image: the app and a link to /Applications to drag it onto.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
cp LICENSE-MIT LICENSE-APACHE "$stage/"
ln -s /Applications "$stage/Applications"
dmg="$out/orchidea-wizard-$version-macos.dmg"
rm -f "$dmg"
hdiutil create -volname "$name" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"
hdiutil verify "$dmg"
echo "make-dmg: $dmg"
