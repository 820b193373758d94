#!/usr/bin/env bash
# The main job on the embedded defaults: two organisations' gateways on this machine
# (SQLite, a self-signed test PKI), one dossier transferred from A to B over mutual TLS,
# then both sides' view of it and the audit trails verified.
set -euo pipefail
cd "$(dirname "$0")/.."
JGZ=.venv/bin/jgz
DIR=var/demo
rm -rf "$DIR" && mkdir -p "$DIR"
A=00001111 B=12345678
PORT_A=${JGZ_DEMO_PORT_A:-18443} PORT_B=${JGZ_DEMO_PORT_B:-18444}

echo "== test PKI for two organisations (never production keys)"
$JGZ certs init "$DIR/pki" --org "$A:GGD Groningen (demo)" --org "$B:GGD Twente (demo)" --key-size 2048 >/dev/null

config() {  # ura app-id port
    cat > "$DIR/$1.toml" <<TOML
ura = "$1"
name = "demo $1"
application_id = "$2"
cert_file = "pki/orgs/$1/chain.pem"
key_file = "pki/orgs/$1/server.key"
trust_anchors = "pki/trust-anchors.pem"
crl_files = ["pki/crl.pem"]
database_url = "sqlite:///$1.db"
listen_host = "127.0.0.1"
listen_port = $3
TOML
}
config $A 1111 $PORT_A
config $B 5678 $PORT_B
$JGZ orgs add $B --name "GGD Twente (demo)" --app-id 5678 --endpoint "https://127.0.0.1:$PORT_B/dob" --bds 4.2.0 --bds 4.1.3 -c "$DIR/$A.toml" >/dev/null
$JGZ orgs add $A --name "GGD Groningen (demo)" --app-id 1111 --endpoint "https://127.0.0.1:$PORT_A/dob" --bds 4.2.0 -c "$DIR/$B.toml" >/dev/null

echo "== gateway B listening on 127.0.0.1:$PORT_B (mutual TLS)"
$JGZ serve -c "$DIR/$B.toml" --no-worker > "$DIR/b.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT_B") 2>/dev/null && break
    kill -0 $SERVER 2>/dev/null || { cat "$DIR/b.log"; exit 1; }
    sleep 0.2
done

echo "== A sends a dossier to B (consent gate, close, build, sign, outbox, deliver)"
$JGZ send examples/DOB-4.0.0-KWAL_versturen_hl7.xml --to $B -c "$DIR/$A.toml"
$JGZ transfers list -c "$DIR/$A.toml"
echo "== audit trails"
$JGZ audit verify -c "$DIR/$A.toml"
$JGZ audit verify -c "$DIR/$B.toml"
