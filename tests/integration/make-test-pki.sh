#!/usr/bin/env bash
# Makes the integration tests' PKI in $1: the dev PKI for deploy/parties.toml plus the
# unregistered party police/ghost and a client certificate of no party kind (daemon/impostor),
# and in $1/rogue an unrelated CA with the same parties.
set -euo pipefail
out="$1"
src="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"
cp "$src/deploy/parties.toml" "$out/parties.toml"
printf '\n[[party]]\nkind = "police"\nid = "ghost"\nname = "not registered"\n' >> "$out/parties.toml"
printf '\n[[party]]\nkind = "daemon"\nid = "impostor"\n' >> "$out/parties.toml"
"$src/certs/make-dev-pki.sh" -p "$out/parties.toml" -o "$out" > /dev/null
"$src/certs/make-dev-pki.sh" -p "$out/parties.toml" -o "$out/rogue" > /dev/null
