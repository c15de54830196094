#!/bin/sh
# Makes the TLS material of the compose stack under docker/certs/ (run once, before `up`): a CA, the
# NATS server's certificate (nats-1..3, localhost, 127.0.0.1), PostgreSQL's (postgres, localhost,
# 127.0.0.1) and one client certificate per app and for the read-only `events` user. NATS and
# PostgreSQL verify every client's certificate (mutual TLS) on top of its user and password, so a
# container without a certificate signed by this CA can connect to neither.
# Valid 825 days; run again (with --force) to replace. The CA key never leaves this folder: keep it
# offline, or delete it once the certificates are made.
set -eu
cd "$(dirname "$0")"
dir=certs
if [ -e "$dir/ca.pem" ] && [ "${1:-}" != "--force" ]; then
  echo "docker/certs already holds certificates (use --force to replace them)" >&2
  exit 1
fi
umask 077
mkdir -p "$dir"
ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
# shellcheck disable=SC2086
openssl req -x509 $ec -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" -days 825 -subj "/CN=Sealbox CA" 2>/dev/null
issue() {
  name=$1
  ext=$2
  # shellcheck disable=SC2086
  openssl req $ec -keyout "$dir/$name-key.pem" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
  printf '%b' "$ext" > "$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
    -out "$dir/$name.pem" -days 825 -extfile "$dir/$name.ext" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}
# The nodes' certificate serves clients and the cluster's routes (which are TLS clients of each other).
issue nats 'subjectAltName=DNS:nats-1,DNS:nats-2,DNS:nats-3,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n'
issue postgres 'subjectAltName=DNS:postgres,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
for app in gateway iam kms crypto storage secrets lifecycle events; do
  issue "$app" 'extendedKeyUsage=clientAuth\n'
done
# The app containers run as `node` (uid/gid 1000): their keys are readable by that group only. (The
# postgres container copies its key into place with the owner PostgreSQL requires: compose.yaml.)
chmod 0644 "$dir"/*.pem
chmod 0640 "$dir"/*-key.pem
chmod 0600 "$dir/ca-key.pem"
chgrp 1000 "$dir"/*-key.pem 2>/dev/null || echo "note: could not give group 1000 the client keys; run as root or chgrp them" >&2
echo "wrote docker/certs (CA, the nats and postgres servers, and a client certificate per app)"
