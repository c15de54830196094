#!/bin/sh
# Entrypoint of every Sealbox image: runs the command (by default the app named by the APP build arg).
# The kms image also carries SoftHSM2 for the dev stack: while SEALBOX_PKCS11_LIBRARY is SoftHSM2's,
# it first makes sure the token exists, initialising it on the first start of an empty token volume
# (label SEALBOX_PKCS11_TOKEN_LABEL, user PIN SEALBOX_PKCS11_PIN, security-officer PIN
# SOFTHSM2_SO_PIN). A real HSM is initialised by its own tooling and this step is skipped.
set -eu
softhsm=/usr/lib/softhsm/libsofthsm2.so
if [ "${APP:-}" = kms ] && [ "${SEALBOX_PKCS11_LIBRARY:-$softhsm}" = "$softhsm" ]; then
  label="${SEALBOX_PKCS11_TOKEN_LABEL:-sealbox}"
  if ! softhsm2-util --show-slots | grep -Eq "^[[:space:]]*Label:[[:space:]]+${label}[[:space:]]*\$"; then
    : "${SEALBOX_PKCS11_PIN:?is required to initialise the SoftHSM2 token}"
    : "${SOFTHSM2_SO_PIN:?is required to initialise the SoftHSM2 token}"
    softhsm2-util --init-token --free --label "$label" --pin "$SEALBOX_PKCS11_PIN" --so-pin "$SOFTHSM2_SO_PIN" >/dev/null
    echo "entrypoint: initialised SoftHSM2 token \"$label\""
  fi
fi
exec "$@"
