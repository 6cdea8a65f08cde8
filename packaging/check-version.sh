#!/bin/sh
# The Debian package's version (debian/changelog) must be the project's
# (meson.build's project() version). Run by debian/rules and by the test
# package_version. Usage: check-version.sh [SOURCE_DIR]
set -eu
src=${1:-.}
meson_version=$(sed -n "s/^[[:space:]]*version[[:space:]]*:[[:space:]]*'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)
deb_version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$src/debian/changelog")
# A Debian revision (-N) may follow the project's version; a native package has none.
case "$deb_version" in
"$meson_version" | "$meson_version"-*)
	echo "version $meson_version: meson.build and debian/changelog agree"
	;;
*)
	echo "version mismatch: meson.build says '$meson_version', debian/changelog '$deb_version'" >&2
	echo "add a debian/changelog entry (dch -v $meson_version) when the project's version changes" >&2
	exit 1
	;;
esac
