#!/bin/sh
# bin/godepot of a release archive (scripts/release.mjs copies it there): runs godepot with the Node.js
# the archive carries in node/, else with the `node` on PATH, which must be as new as package.json's
# engines asks; an older one would fail on the first import with an error that does not say why.
set -e
# readlink -f: a symlink to this file (/usr/local/bin/godepot) still finds the archive's folder.
root=$(dirname "$(dirname "$(readlink -f "$0")")")
if [ -x "$root/node/bin/node" ]; then
  node=$root/node/bin/node
else
  node=$(command -v node) || {
    echo "godepot: no node on PATH; install Node.js 20.18.1 or later, or use a release archive made with --with-node" >&2
    exit 127
  }
  version=$("$node" --version)
  # v20.18.1 -> 20 18 1
  IFS=. read -r major minor patch <<EOV
${version#v}
EOV
  if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && { [ "$minor" -lt 18 ] || { [ "$minor" -eq 18 ] && [ "${patch%%[!0-9]*}" -lt 1 ]; }; }; }; then
    echo "godepot: $node is Node.js $version; godepot needs 20.18.1 or later" >&2
    exit 1
  fi
fi
exec "$node" "$root/dist/src/cli/main.js" "$@"
