#!/usr/bin/env bash
# Regenerates every icon size the packages need from assets/icon.svg.
# The output is committed, so CI and packagers never run this; run it after
# editing the SVG. Needs: librsvg2-bin (rsvg-convert), imagemagick (convert,
# for the .ico), icnsutils (png2icns).
set -euo pipefail
cd "$(dirname "$0")/.."

id=com.orchidea.ScimWizard
src=assets/icon.svg
out=assets/icons

for tool in rsvg-convert convert png2icns; do
  command -v "$tool" >/dev/null || { echo "make-icons: $tool is missing" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/hicolor/scalable/apps"
cp "$src" "$out/hicolor/scalable/apps/$id.svg"

# hicolor sizes (Linux desktops, AppStream wants >= 64), plus 1024 for the .icns.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for size in 16 22 24 32 48 64 96 128 256 512 1024; do
  rsvg-convert --width "$size" --height "$size" --format png "$src" --output "$tmp/$size.png"
  if [ "$size" -le 512 ]; then
    mkdir -p "$out/hicolor/${size}x${size}/apps"
    cp "$tmp/$size.png" "$out/hicolor/${size}x${size}/apps/$id.png"
  fi
done

# Windows: the sizes Explorer and the taskbar pick from (the exe and the MSI).
convert "$tmp"/{16,24,32,48,64,256}.png "$out/orchidea-wizard.ico"

# macOS: 16, 32, 128, 256, 512 and 1024 (the 2x of 512).
png2icns "$out/AppIcon.icns" "$tmp"/{16,32,128,256,512,1024}.png >/dev/null

find "$out" -type f | sort
