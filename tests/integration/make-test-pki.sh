#!/usr/bin/env bash
# Makes the integration tests' PKI in $1: the dev PKI for deploy/parties.toml plus the
# unregistered party police/ghost and a client certificate of no party kind (daemon/impostor);
# in $1/odd five certificates a party may not use (one of them expired); in $1/rogue an
# unrelated CA with the same parties.
set -euo pipefail
out="$1"
src="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"
cp "$src/deploy/parties.toml" "$out/parties.toml"
printf '\n[[party]]\nkind = "police"\nid = "ghost"\nname = "not registered"\n' >> "$out/parties.toml"
printf '\n[[party]]\nkind = "daemon"\nid = "impostor"\n' >> "$out/parties.toml"
"$src/certs/make-dev-pki.sh" -p "$out/parties.toml" -o "$out" > /dev/null
"$src/certs/make-dev-pki.sh" -p "$out/parties.toml" -o "$out/rogue" > /dev/null

# Certificates from the right CA for a registered party (police/oslo) that a party's certificate
# must not be: a CA, one without the clientAuth usage, one with two URI SANs.
mkdir -p "$out/odd"
odd() {  # odd <name> <extensions>
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/odd/$1.key" 2>/dev/null
  openssl req -new -key "$out/odd/$1.key" -subj "/O=infoflyt test/CN=$1" -out "$out/odd/$1.csr"
  openssl x509 -req -in "$out/odd/$1.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -sha256 -days 30 -out "$out/odd/$1.pem" \
    -extfile <(printf '%s\n' "$2") 2>/dev/null
  rm -f "$out/odd/$1.csr"
}
uri="URI:spiffe://infoflyt.test/police/oslo"
odd ca-as-client "basicConstraints=critical,CA:TRUE
keyUsage=critical,digitalSignature,keyCertSign
extendedKeyUsage=clientAuth
subjectAltName=$uri"
odd no-client-auth "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectAltName=$uri"
odd two-uris "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=$uri,URI:https://example.no/other"
# A proper party certificate, but naming police/oslo of another trust domain.
odd other-domain "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=URI:spiffe://other.test/police/oslo"

# And one that has expired: OpenSSL 3.0's `x509 -req` cannot set dates in the past, so `openssl
# ca` issues it, from a database of its own (the dev CA's revocation database stays as it was).
db="$out/odd/expired-db"
mkdir -p "$db"
: > "$db/index.txt"
openssl rand -hex 16 > "$db/serial"
cat > "$db/ca.cnf" <<CNF
[ca]
default_ca = odd
[odd]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
certificate = $out/ca.pem
private_key = $out/ca.key
default_md = sha256
policy = anything
unique_subject = no
[anything]
organizationName = optional
commonName = supplied
CNF
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/odd/expired.key" 2>/dev/null
openssl req -new -key "$out/odd/expired.key" -subj "/O=infoflyt test/CN=expired" \
  -out "$db/expired.csr"
openssl ca -batch -notext -config "$db/ca.cnf" -startdate 20200101000000Z \
  -enddate 20200201000000Z -in "$db/expired.csr" -out "$out/odd/expired.pem" \
  -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=$uri") 2>/dev/null
