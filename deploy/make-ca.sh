#!/bin/sh
# deploy/make-ca.sh DIR [CLIENT_CN ...]: a local CA for testing TLS, never for production.
# Writes into DIR: ca.crt/ca.key (the CA), server.crt/server.key (for localhost and
# 127.0.0.1, signed by the CA) and one CN.crt/CN.key per client name given (CN = the
# MQTT username when the broker uses use_identity_as_username). Keys are mode 0600.
# Existing files are kept, so it can be re-run to add clients.
set -eu
[ $# -ge 1 ] || { echo "usage: deploy/make-ca.sh DIR [CLIENT_CN ...]" >&2; exit 2; }
dir=$1
shift
mkdir -p "$dir"
umask 077
days=825

key() { [ -f "$1" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME SUBJECT EXTFILE: NAME.key -> NAME.crt signed by the CA
sign() {
	[ -f "$dir/$1.crt" ] && return 0
	key "$dir/$1.key"
	openssl req -new -key "$dir/$1.key" -subj "$2" -out "$dir/$1.csr"
	openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-CAcreateserial -days "$days" -extfile "$3" -out "$dir/$1.crt" 2>/dev/null
	rm -f "$dir/$1.csr"
}

if [ ! -f "$dir/ca.crt" ]; then
	key "$dir/ca.key"
	openssl req -new -x509 -key "$dir/ca.key" -subj "/CN=citylink test CA" -days "$days" \
		-addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$dir/ca.crt"
fi
ext=$dir/.ext
printf 'basicConstraints=CA:false\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$ext"
sign server "/CN=localhost" "$ext"
printf 'basicConstraints=CA:false\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' >"$ext"
for cn in "$@"; do
	case $cn in
	*/* | .* | "") echo "make-ca.sh: bad client name \"$cn\"" >&2; exit 2 ;;
	esac
	sign "$cn" "/CN=$cn" "$ext"
done
rm -f "$ext"
chmod 644 "$dir"/*.crt
