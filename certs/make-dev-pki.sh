#!/usr/bin/env bash
# Makes a DEVELOPMENT PKI for infoflyt with the OpenSSL CLI: a CA, a server certificate for
# infoflytd, and one client certificate per party in the parties registry, each carrying the
# party's identity as a SPIFFE URI SAN: spiffe://<trust-domain>/<kind>/<id>.
# Not for production: see certs/README.md.
set -euo pipefail

usage() {
  cat <<USAGE
Usage: $0 [-p parties.toml] [-d trust-domain] [-o out-dir] [-n server-dns-name]
       $0 [-o out-dir] revoke <kind>/<id>
       $0 [-o out-dir] crl [seconds]
       $0 [-o out-dir] [-d trust-domain] [-n server-dns-name] renew-server
  -p  parties registry (default: deploy/parties.toml next to this script)
  -d  SPIFFE trust domain (default: infoflyt.test)
  -o  output directory (default: certs/dev); existing files are replaced
  -n  extra DNS name for the server certificate (localhost and 127.0.0.1 are always included)
Writes ca.pem, ca.key, server.pem, server.key, parties/<kind>-<id>.{pem,key} and an empty CRL
in crl/ (OpenSSL's hashed layout, for [tls] crl_directory). On an existing PKI:
  revoke        revokes a party's certificate and publishes the new CRL in place
  crl           publishes the CRL again, due in `seconds` (default 30 days): before it goes stale
  renew-server  issues a new server key and certificate and puts them in place, key first
Each file is replaced by a rename, so a running infoflytd never reads half of one.
USAGE
}

here="$(cd "$(dirname "$0")" && pwd)"
parties="$here/../deploy/parties.toml"
domain="infoflyt.test"
out="$here/dev"
extra_dns=""
opt_domain=""
opt_dns=""
while getopts "p:d:o:n:h" opt; do
  case "$opt" in
    p) parties="$OPTARG" ;;
    d) domain="$OPTARG" opt_domain="$OPTARG" ;;
    o) out="$OPTARG" ;;
    n) extra_dns="$OPTARG" opt_dns="$OPTARG" ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 64 ;;
  esac
done
shift $((OPTIND - 1))
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 69; }

# The CA's database for `openssl ca` (revocations and CRL numbers), kept in ca-db/.
ca_config() { echo "$out/ca-db/ca.cnf"; }

# The configuration `openssl ca` needs, with absolute paths; written again before each use, so
# that a copied PKI directory revokes in its own database.
write_ca_config() {
  cat > "$out/ca-db/ca.cnf" <<CNF
[ca]
default_ca = dev
[dev]
database = $out/ca-db/index.txt
crlnumber = $out/ca-db/crlnumber
certificate = $out/ca.pem
private_key = $out/ca.key
default_md = sha256
default_crl_days = 30
CNF
}

# Writes the CA's current CRL to crl/<subject hash>.r0 by a rename, so the daemon never reads a
# half-written file.
publish_crl() {  # [seconds until due]
  ca -gencrl ${1:+-crlsec "$1"} -out "$out/crl/.next.pem"
  local hash
  hash="$(openssl crl -hash -noout -in "$out/crl/.next.pem")"
  chmod 644 "$out/crl/.next.pem"  # Read by the daemon, which may run as another user.
  mv -f "$out/crl/.next.pem" "$out/crl/$hash.r0"
}

umask 077
days=825

# EC P-256 keys: fast to make, and what current enterprise PKIs issue for machine identities.
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# issue <name> <subject> <extensions>
issue() {
  local name="$1" subject="$2" ext="$3"
  newkey "$name.key"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -sha256 -days "$days" -out "$name.pem" \
    -extfile <(printf '%s\n' "$ext") 2>/dev/null
  rm -f "$name.csr"
}

# issue_server <name>: the daemon's certificate, for TLS servers only.
issue_server() {
  local san="DNS:localhost,IP:127.0.0.1,URI:spiffe://$domain/daemon/infoflytd"
  [ -n "$extra_dns" ] && san="DNS:$extra_dns,$san"
  issue "$1" "/O=infoflyt development/CN=infoflytd" \
    "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san"
}

# Runs `openssl ca` quietly, showing what it said if it fails (e.g. already revoked).
ca() {
  local said
  said="$(openssl ca -config "$(ca_config)" "$@" 2>&1)" || { echo "$said" >&2; exit 1; }
}

case "${1:-}" in
  revoke | crl | renew-server)
    [ -d "$out/ca-db" ] || { echo "no dev PKI in $out (make one first)" >&2; exit 66; }
    out="$(cd "$out" && pwd)"
    write_ca_config
    # The trust domain and DNS name the PKI was made with, unless given again.
    # shellcheck source=/dev/null
    [ -r "$out/ca-db/settings" ] && . "$out/ca-db/settings"
    domain="${opt_domain:-${made_domain:-$domain}}"
    extra_dns="${opt_dns:-${made_dns:-}}"
    ;;
esac
case "${1:-}" in
  revoke)
    [ $# -eq 2 ] || { usage >&2; exit 64; }
    cert="$out/parties/${2/\//-}.pem"
    [ -r "$cert" ] || { echo "no certificate $cert" >&2; exit 66; }
    ca -revoke "$cert"
    publish_crl
    echo "revoked $2 ($(openssl x509 -noout -serial -in "$cert")); CRL in $out/crl"
    exit 0
    ;;
  crl)
    [ $# -le 2 ] || { usage >&2; exit 64; }
    publish_crl "${2:-}"
    echo "CRL in $out/crl, due in ${2:-$((30 * 86400))} s"
    exit 0
    ;;
  renew-server)
    [ $# -eq 1 ] || { usage >&2; exit 64; }
    issue_server "$out/.renewed"
    # Key first, then the certificate, each by a rename (certs/README.md).
    mv -f "$out/.renewed.key" "$out/server.key"
    mv -f "$out/.renewed.pem" "$out/server.pem"
    echo "renewed $out/server.pem ($(openssl x509 -noout -serial -enddate -in "$out/server.pem"))"
    exit 0
    ;;
esac
[ $# -eq 0 ] || { usage >&2; exit 64; }
[ -r "$parties" ] || { echo "cannot read parties file $parties" >&2; exit 66; }

mkdir -p "$out/parties" "$out/ca-db" "$out/crl"
out="$(cd "$out" && pwd)"  # `openssl ca` needs absolute paths.

newkey "$out/ca.key"
openssl req -x509 -new -key "$out/ca.key" -sha256 -days "$days" -out "$out/ca.pem" \
  -subj "/O=infoflyt development/CN=infoflyt dev CA $(date +%s)-$$" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

issue_server "$out/server"

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
rm -f "$out"/crl/*.r0
: > "$out/ca-db/index.txt"
echo 1000 > "$out/ca-db/crlnumber"
write_ca_config
printf 'made_domain=%q\nmade_dns=%q\n' "$domain" "$extra_dns" > "$out/ca-db/settings"
publish_crl
# The CRL directory is read by the daemon, which may run as another user.
chmod 755 "$out/crl"
echo "dev PKI in $out: CA, server certificate, $count party certificates (trust domain $domain)"
