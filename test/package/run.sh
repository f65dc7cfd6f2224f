#!/usr/bin/env bash
# The Debian package, built and installed as an administrator would, so that
# a broken debian/ cannot land. A stage of test/run-all.sh; as root.
#
# Usage: bash test/package/run.sh
#
#  1. copies the sources (the files git knows of, or `make distdir` when this
#     is not a git checkout with a commit) to a temporary directory: the
#     build never writes into this tree;
#  2. builds there: dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=nocheck:
#     the unit tests have their own stage);
#  3. checks the .deb's name, version (= configure.ac's) and contents;
#  4. installs it (apt-get install ./<deb>) into the machine's apache2,
#     enables it in a scratch copy of /etc/apache2 (a2enmod with
#     APACHE_CONFDIR and APACHE_STATE_DIRECTORY pointing there) and loads
#     it: `apache2ctl -t -M` must list backchannel_logout_module;
#  5. purges it and checks that the machine's /etc/apache2, /var/lib/apache2
#     and module directory are exactly as they were before.
#
# The machine's own configuration never has the module enabled, and nothing
# restarts its apache2. If the package is already installed on this machine
# the stage refuses to run (it would remove it).
set -euo pipefail

PKG=libapache2-mod-backchannel-logout
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"

say() { printf 'package: %s\n' "$*"; }
fail() { printf 'package: FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (it installs and purges the package)"
for tool in dpkg-buildpackage dh dh_apache2 apt-get a2enmod apache2ctl; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (bash tools/install-deps.sh)"
done
status=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null || true)
case "$status" in
    ''|not-installed) ;;
    *) fail "$PKG is already on this machine ($status); this stage installs and purges it: remove it first (apt-get purge $PKG)" ;;
esac

version=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' configure.ac)
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ -n "$version" ] || fail "no version in configure.ac"
[ "$deb_version" = "$version" ] ||
    fail "debian/changelog's version $deb_version is not configure.ac's $version"
arch=$(dpkg --print-architecture)
deb_name="${PKG}_${version}_${arch}.deb"

tmp=$(mktemp -d /tmp/bcl-package.XXXXXX)
installed=0
cleanup() {
    if [ "$installed" = 1 ]; then
        dpkg --purge "$PKG" >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# What the machine's apache2 looks like now: compared after the purge.
apache_state() {
    local d
    for d in /etc/apache2 /var/lib/apache2 /usr/lib/apache2/modules; do
        [ -e "$d" ] || continue
        find "$d" -printf '%p %y %m %l\n' | sort
        find "$d" -type f -exec md5sum {} + | sort -k 2
    done
}
apache_state > "$tmp/state.before"

# 1. the sources
mkdir "$tmp/src"
if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
    say "copying the checkout's files (git ls-files) to $tmp/src"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf - | tar -xf - -C "$tmp/src"
else
    say "not a git checkout with a commit: copying the sources with make distdir to $tmp/src"
    [ -f Makefile ] || fail "no Makefile: run ./configure first"
    make -s distdir distdir="$tmp/src" >"$tmp/distdir.log" 2>&1 || { cat "$tmp/distdir.log" >&2; fail "make distdir"; }
fi

# 2. the build
say "dpkg-buildpackage -us -uc -b (log: $tmp/build.log)"
if ! (cd "$tmp/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
        dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1); then
    tail -n 60 "$tmp/build.log" >&2
    fail "dpkg-buildpackage failed"
fi
deb="$tmp/$deb_name"
[ -f "$deb" ] || { ls "$tmp" >&2; fail "$deb_name was not built"; }

# 3. the contents
contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/lib/apache2/modules/mod_backchannel_logout.so \
         /etc/apache2/mods-available/backchannel_logout.load \
         /etc/apache2/mods-available/backchannel_logout.conf \
         /usr/bin/bcl-check /usr/share/man/man1/bcl-check.1.gz \
         /usr/share/doc/$PKG/copyright /usr/share/doc/$PKG/README.md.gz \
         /usr/share/doc/$PKG/NEWS.gz /usr/share/doc/$PKG/docs/directives.md.gz; do
    grep -qxF "$f" <<<"$contents" || fail "$deb_name lacks $f"
done
say "$deb_name: $(wc -l <<<"$contents") entries, module, a2enmod files, bcl-check, bcl-check.1, docs"

# 4. install, enable in a scratch configuration, load
say "apt-get install ./$deb_name"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >"$tmp/apt.log" 2>&1; then
    cat "$tmp/apt.log" >&2
    fail "apt-get install ./$deb_name"
fi
installed=1
[ "$(dpkg-query -W -f='${db:Status-Status}' "$PKG")" = installed ] || fail "$PKG is not installed after apt-get install"
[ -f /usr/lib/apache2/modules/mod_backchannel_logout.so ] || fail "the module is not in /usr/lib/apache2/modules"
[ ! -e /etc/apache2/mods-enabled/backchannel_logout.load ] ||
    fail "the package enabled the module by itself (it must be left to a2enmod)"
/usr/bin/bcl-check --help >/dev/null || fail "/usr/bin/bcl-check --help"

cp -a /etc/apache2 "$tmp/apache2"
mkdir -p "$tmp/state"
export APACHE_CONFDIR="$tmp/apache2" APACHE_STATE_DIRECTORY="$tmp/state"
a2enmod backchannel_logout >"$tmp/a2enmod.log" 2>&1 || { cat "$tmp/a2enmod.log" >&2; fail "a2enmod backchannel_logout"; }
[ -L "$tmp/apache2/mods-enabled/backchannel_logout.load" ] || fail "a2enmod made no mods-enabled/backchannel_logout.load"
out=$(apache2ctl -t -M 2>&1) || { printf '%s\n' "$out" >&2; fail "apache2ctl -t -M with the module enabled"; }
grep -q 'backchannel_logout_module (shared)' <<<"$out" || { printf '%s\n' "$out" >&2; fail "apache2ctl -M does not list backchannel_logout_module"; }
out=$(apache2ctl -t 2>&1) || { printf '%s\n' "$out" >&2; fail "apache2ctl -t with the module enabled"; }
grep -q 'Syntax OK' <<<"$out" || { printf '%s\n' "$out" >&2; fail "apache2ctl -t did not say Syntax OK"; }
unset APACHE_CONFDIR APACHE_STATE_DIRECTORY
say "a2enmod backchannel_logout + apache2ctl -t -M (scratch copy of /etc/apache2): backchannel_logout_module (shared), Syntax OK"

# 5. purge: the machine as it was
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$PKG" >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; fail "apt-get purge $PKG"; }
installed=0
apache_state > "$tmp/state.after"
if ! diff -u "$tmp/state.before" "$tmp/state.after" >"$tmp/state.diff"; then
    cat "$tmp/state.diff" >&2
    fail "the purge did not leave /etc/apache2, /var/lib/apache2 and the module directory as they were"
fi
say "purged: /etc/apache2, /var/lib/apache2 and /usr/lib/apache2/modules as before"
