#!/usr/bin/env bash
# The main job: builds infoflyt, makes a development PKI, starts infoflytd on its embedded
# SQLite store and runs one real exchange over mutual TLS:
#   PST flags a returned foreign fighter -> a prison posts a release notice about him ->
#   the police district's subscriber prints and acknowledges it, and the home municipality gets
#   the reduced municipal notice on PST's behalf -> the prison's status shows who its own basis
#   reached -> PST reports a return
#   to Bergen, which does not acknowledge within the dev deadline (20 s), so PST and the police
#   district each get one escalation notice -> an auditor queries the disclosure log, exports it
#   and verifies it offline against a signed checkpoint and the log's published key.
# Interactive runs keep the daemon serving afterwards (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/build --target infoflytd infoflyt

certs/make-dev-pki.sh
mkdir -p var
rm -f var/ready.json  # A previous run's would look like this one's.
infoflytd=build/daemon/infoflytd
infoflyt=build/client/infoflyt
"$infoflytd" --config deploy/infoflytd.dev.toml --ready-file var/ready.json &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s var/ready.json ] && break; sleep 0.1; done
[ -s var/ready.json ] || { echo "infoflytd did not start" >&2; exit 1; }

export INFOFLYT_SERVER=localhost:7443 INFOFLYT_CA=certs/dev/ca.pem
as() {  # as <kind-id> <infoflyt args...>: run the CLI with that party's certificate.
  local party=$1; shift
  INFOFLYT_CERT="certs/dev/parties/$party.pem" INFOFLYT_KEY="certs/dev/parties/$party.key" \
    "$infoflyt" "$@"
}

echo; echo "== PST flags the person (returned foreign fighter); municipalities are told under polregl-27-2"
INFOFLYT_NATIONAL_ID=15076500565 as pst-pst flag add --reason returned-foreign-fighter --basis polregl-27-2

echo; echo "== Oslo politidistrikt and Oslo kommune subscribe (print and acknowledge each delivery)"
as police-oslo subscribe --ack --count 1 > var/police.out &
police=$!
as municipality-0301 subscribe --ack --count 1 > var/municipality.out &
municipality=$!
sleep 0.5

echo; echo "== Oslo fengsel posts a release notice (the identity number comes from the environment)"
planned=$(date -u -d '+14 days' +%Y-%m-%dT09:00:00Z)
receipt=$(INFOFLYT_NATIONAL_ID=15076500565 as correctional-oslo-fengsel -o json post release \
  --basis strgjfl-4i --tlp amber --kind parole --at "$planned" \
  --given-name Ola --family-name Nordmann --municipality 0301 \
  --contact-name "Kari Vakt" --contact-unit "Oslo fengsel, avdeling A" --contact-phone "+47 23 00 00 00" \
  --note "Parole; see risk assessment in case 2026/17.")
echo "$receipt"
message_id=$(sed -E 's/.*"message_id":"([^"]+)".*/\1/' <<<"$receipt")

wait $police $municipality
echo; echo "== What the police district received (everything)"
cat var/police.out
echo; echo "== What Oslo kommune received (who, when, where, whom to call: no note, no release kind)"
cat var/municipality.out

echo; echo "== The prison checks the message status (Oslo kommune, told on PST's behalf, is not in it)"
as correctional-oslo-fengsel status "$message_id"
echo; echo "== PST, on whose behalf Oslo kommune was told, saves proof that it acknowledged ..."
as pst-pst status "$message_id" --evidence var/receipt.evidence
echo "== ... which anyone can check offline with the log's public key alone"
as pst-pst audit verify-receipt var/receipt.evidence --key var/log.key.pub

echo; echo "== An invalid post is refused, naming the field (and never echoing the number)"
INFOFLYT_NATIONAL_ID=15076500564 as correctional-oslo-fengsel post release --basis strgjfl-4i \
  --kind parole --at "$planned" --given-name Ola --family-name Nordmann --municipality 0301 \
  --contact-name "Kari Vakt" --contact-phone "+47 23 00 00 00" || echo "(exit code $?)"

echo; echo "== PST reports a return to Bergen; Bergen collects it but never acknowledges"
as police-vest subscribe --ack --count 2 > var/police-vest.out &
police_vest=$!
as municipality-4601 subscribe --count 1 > var/bergen.out &
bergen=$!
sleep 0.5
returned=$(date -u -d '-2 days' +%Y-%m-%dT12:00:00Z)
return_receipt=$(INFOFLYT_NATIONAL_ID=31129987688 as pst-pst -o json post return \
  --basis polregl-27-2 --tlp amber-strict --at "$returned" --given-name Kari \
  --family-name Nordmann --municipality 4601 --contact-name "PST vakt" --contact-phone "23 30 50 00")
echo "$return_receipt"
return_id=$(sed -E 's/.*"message_id":"([^"]+)".*/\1/' <<<"$return_receipt")
wait $bergen
as pst-pst status "$return_id"
echo "   ... waiting for Bergen's acknowledgement deadline (20 s in the dev configuration)"
wait $police_vest
echo; echo "== Vest politidistrikt received the notice, then infoflytd's escalation"
cat var/police-vest.out
as pst-pst status "$return_id"

echo; echo "== The EOS Committee (PST's overseer) looks up who was given what about the person"
INFOFLYT_NATIONAL_ID=15076500565 as auditor-eos-utvalget audit query --outcome disclosed
echo; echo "== Datatilsynet, whose scope leaves PST out, sees only the rest ..."
INFOFLYT_NATIONAL_ID=15076500565 as auditor-datatilsynet audit query --outcome disclosed
echo; echo "== ... exports the disclosure log (PST's records as leaf hashes) and verifies it offline, trusting only the log's key"
as auditor-datatilsynet audit export --out var/audit-log.jsonl --checkpoint-out var/checkpoint.note
cat var/checkpoint.note
as auditor-datatilsynet audit verify --log var/audit-log.jsonl --checkpoint var/checkpoint.note \
  --key var/log.key.pub

echo; echo "== Metrics: curl -s http://127.0.0.1:9464/metrics"
curl -s http://127.0.0.1:9464/metrics | grep -E '^infoflyt_(posts_total|acks_total|escalations_total|log_records)'

echo; echo "== The browser interface: Oslo kommune's inbox over the same mutual TLS (curl with its certificate)"
curl -s --cacert certs/dev/ca.pem --cert certs/dev/parties/municipality-0301.pem \
  --key certs/dev/parties/municipality-0301.key https://localhost:8443/inbox/list |
  sed -n 's/.*<td><a href="\/deliveries\/[0-9]*">\([^<]*\)<\/a><\/td>.*/  \1/p'

if [ -t 0 ]; then
  echo; echo "infoflytd keeps serving on localhost:7443 (metrics on 127.0.0.1:9464; the browser"
  echo "interface on https://localhost:8443/, README \"In the browser\"); Ctrl-C stops it."
  wait $daemon
fi
