#!/usr/bin/env bash
# Makes a DEVELOPMENT PKI for infoflyt with the OpenSSL CLI: a CA, a server certificate for
# infoflytd, and one client certificate per party in the parties registry, each carrying the
# party's identity as a SPIFFE URI SAN: spiffe://<trust-domain>/<kind>/<id>.
# Not for production: see certs/README.md.
set -euo pipefail

usage() {
  cat <<USAGE
Usage: $0 [-p parties.toml] [-d trust-domain] [-o out-dir] [-n server-dns-name]
  -p  parties registry (default: deploy/parties.toml next to this script)
  -d  SPIFFE trust domain (default: infoflyt.test)
  -o  output directory (default: certs/dev); existing files are replaced
  -n  extra DNS name for the server certificate (localhost and 127.0.0.1 are always included)
Writes ca.pem, ca.key, server.pem, server.key and parties/<kind>-<id>.{pem,key}.
USAGE
}

here="$(cd "$(dirname "$0")" && pwd)"
parties="$here/../deploy/parties.toml"
domain="infoflyt.test"
out="$here/dev"
extra_dns=""
while getopts "p:d:o:n:h" opt; do
  case "$opt" in
    p) parties="$OPTARG" ;;
    d) domain="$OPTARG" ;;
    o) out="$OPTARG" ;;
    n) extra_dns="$OPTARG" ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 64 ;;
  esac
done
[ -r "$parties" ] || { echo "cannot read parties file $parties" >&2; exit 66; }
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 69; }

mkdir -p "$out/parties"
umask 077
days=825

# EC P-256 keys: fast to make, and what current enterprise PKIs issue for machine identities.
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

newkey "$out/ca.key"
openssl req -x509 -new -key "$out/ca.key" -sha256 -days "$days" -out "$out/ca.pem" \
  -subj "/O=infoflyt development/CN=infoflyt dev CA $(date +%s)-$$" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

# issue <name> <subject> <extensions>
issue() {
  local name="$1" subject="$2" ext="$3"
  newkey "$name.key"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" -CAcreateserial \
    -sha256 -days "$days" -out "$name.pem" -extfile <(printf '%s\n' "$ext") 2>/dev/null
  rm -f "$name.csr"
}

san="DNS:localhost,IP:127.0.0.1,URI:spiffe://$domain/daemon/infoflytd"
[ -n "$extra_dns" ] && san="DNS:$extra_dns,$san"
issue "$out/server" "/O=infoflyt development/CN=infoflytd" \
  "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san"

# The registry's [[party]] tables list kind before id, one key per line.
count=0
while read -r kind id; do
  issue "$out/parties/$kind-$id" "/O=infoflyt development/OU=$kind/CN=$id" \
    "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=URI:spiffe://$domain/$kind/$id"
  count=$((count + 1))
done < <(awk -F'"' '/^kind *=/ { kind = $2 } /^id *=/ { print kind, $2 }' "$parties")
rm -f "$out/ca.srl"
echo "dev PKI in $out: CA, server certificate, $count party certificates (trust domain $domain)"
