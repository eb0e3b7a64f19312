#!/usr/bin/env bash
# Build the insncount QEMU TCG plugin against the plugin header of the *installed*
# qemu-system-arm (the plugin API version must match the QEMU that loads it).
# Needs: root, gcc; for QEMU >= 8 also libglib2.0-dev. Adds deb-src twins of the
# machine's active Debian *.sources entries (no host names written here).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/libinsncount.so}
srclist=/etc/apt/sources.list.d/zz-deb-src.sources
: > "$srclist.new"
for f in /etc/apt/sources.list.d/*.sources; do
  [ "$f" = "$srclist" ] && continue
  sed 's/^Types: deb$/Types: deb-src/' "$f" >> "$srclist.new"; echo >> "$srclist.new"
done
if ! cmp -s "$srclist.new" "$srclist"; then mv "$srclist.new" "$srclist"; apt-get update -qq; else rm "$srclist.new"; fi
work=$(mktemp -d /tmp/qemu-plugin-hdr.XXXXXX); chmod 755 "$work"
srcver=$(dpkg-query -W -f='${source:Version}' qemu-system-arm)
# Only the upstream tarball is needed; for the backports version the .dsc has been seen
# to 404 after the .orig tarball arrived, so the exit status is not trusted here.
(cd "$work" && apt-get source -qq --download-only "qemu=$srcver" 2>&1 | grep -v 'unsandboxed' || true)
tarball=$(ls "$work"/qemu_*.orig.tar.* 2>/dev/null | head -1 || true)
[ -n "$tarball" ] || { echo "no qemu source tarball for $srcver" >&2; exit 1; }
tar -xf "$tarball" -C "$work" --wildcards '*/include/qemu/qemu-plugin.h'
hdr=$(dirname "$(find "$work" -name qemu-plugin.h | head -1)")
cflags=""
if grep -q '#include <glib.h>' "$hdr/qemu-plugin.h"; then cflags=$(pkg-config --cflags glib-2.0); fi
gcc -O2 -shared -fPIC -I"$hdr" $cflags -o "$out" "$here/insncount.c"
rm -rf "$work"
echo "built $out for qemu source $srcver"
