#!/bin/sh
# bt-open.sh: open a sealed backtory archive with POSIX sh and the stock openssl 3
# CLI, for a rescue system without Node. The recipe of backtory-seal(5).
#
#   sh bt-open.sh -v HOST.pub -k ADMIN.key ARCHIVE > stream.bt
#   sh bt-open.sh -v HOST.pub -p PASSPHRASE-FILE ARCHIVE > stream.bt
#   sh bt-open.sh -v HOST.pub ARCHIVE          (verify only: no key, no output)
#
# It checks everything a public key can check FIRST: the signer's fingerprint,
# the trailer's signature, the SHA-256 and length of everything before the
# trailer, and the header's signature. Only then does it unwrap the data key and
# decrypt the chunks (AES-256-GCM chunks decrypt as AES-256-CTR from counter 2
# once their 16-byte tag is cut off; the signed digest stands in for the tags).
# Needs: sh, openssl 3, head, tail, sed, od, tr, wc, cut, grep, mktemp, rm, cat,
# and zstd or gzip for compressed archives. Copy the archive to a local disk
# first: it is read several times. The data key appears on openssl's command
# line (ps shows it to other users): run it on a single-user rescue system.
set -eu

die() {
  printf 'bt-open.sh: error: %s\n' "$1" >&2
  exit "${2:-4}"
}

usage() {
  printf 'usage: sh bt-open.sh -v HOST.pub [-k KEY | -p PASSPHRASE-FILE] ARCHIVE\n' >&2
  exit 2
}

pub='' key='' passfile=''
while getopts 'v:k:p:' opt; do
  case $opt in
    v) pub=$OPTARG ;;
    k) key=$OPTARG ;;
    p) passfile=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] && [ -n "$pub" ] || usage
[ -z "$key" ] || [ -z "$passfile" ] || usage
f=$1
[ -f "$f" ] && [ -r "$f" ] || die "cannot read \"$f\"" 1
[ -r "$pub" ] || die "cannot read public key \"$pub\"" 1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 700 "$tmp"

fpr_pub() { openssl pkey -pubin -in "$1" -outform DER | openssl dgst -sha256 -r | cut -c1-64; }
fpr_key() { openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -r | cut -c1-64; }
unb64() { tr -d '\n' | openssl base64 -d -A; }
field() { sed -n "s/^$1: //p" "$tmp/header"; }

# verify ALG MESSAGE-FILE SIGNATURE-FILE
verify() {
  case $1 in
    ed25519) openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$2" -sigfile "$3" >/dev/null 2>&1 ;;
    rsa-pss-sha256) openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
      -verify "$pub" -signature "$3" "$2" >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

# --- the header: text lines up to the first blank line, then one signature line
size=$(wc -c < "$f" | tr -d ' ')
head -c 65536 "$f" | sed '/^$/q' > "$tmp/header"
[ "$(head -n 1 "$tmp/header")" = 'backtory-seal/v1' ] || die 'not a sealed backtory archive (no backtory-seal/v1 line)'
[ "$(tail -c 2 "$tmp/header" | od -An -tx1 | tr -d ' \n')" = 0a0a ] || die 'malformed header: no blank line in the first 64 KiB'
hlen=$(wc -c < "$tmp/header" | tr -d ' ')
tail -c +$((hlen + 1)) "$f" | head -n 1 > "$tmp/hsigline"
slen=$(wc -c < "$tmp/hsigline" | tr -d ' ')
sed -n 's/^sig: //p' "$tmp/hsigline" | unb64 > "$tmp/hsig" || die 'malformed header signature line'

# --- the trailer: "end: SHA256 LENGTH" and a signature line as long as the header's
tlen=$((91 + slen))
[ "$size" -ge $((hlen + slen + 16 + tlen)) ] || die "sealed archive is truncated: $size bytes is too short"
L=$((size - tlen))
tail -c +$((L + 1)) "$f" | head -c 91 > "$tmp/end"
tail -c "$slen" "$f" > "$tmp/tsigline"
end=$(cat "$tmp/end")
digest=$(printf '%s\n' "$end" | sed -n 's/^end: \([0-9a-f]\{64\}\) [0-9]\{20\}$/\1/p')
length=$(printf '%s\n' "$end" | sed -n 's/^end: [0-9a-f]\{64\} 0*\([0-9][0-9]*\)$/\1/p')
[ -n "$digest" ] && [ -n "$length" ] || die 'sealed archive is truncated, or has data appended: no trailer at its end'
[ "$length" -eq "$L" ] || die "the trailer says the archive has $length bytes before it, the file has $L: truncated or appended to"
sed -n 's/^sig: //p' "$tmp/tsigline" | unb64 > "$tmp/tsig" || die 'malformed trailer signature line'

# --- the signer, then the trailer's signature, the digest, and the header's signature
signer=$(field signer)
alg=${signer%% *}
[ "${signer#* }" = "$(fpr_pub "$pub")" ] || die "archive is signed by $signer, not by $pub"
verify "$alg" "$tmp/end" "$tmp/tsig" || die 'bad signature on the trailer'
[ "$(head -c "$L" "$f" | openssl dgst -sha256 -r | cut -c1-64)" = "$digest" ] || die "the archive's SHA-256 does not match its signed trailer: a byte was changed"
verify "$alg" "$tmp/header" "$tmp/hsig" || die 'bad signature on the header'
printf 'bt-open.sh: verified: %s bytes signed by %s\n' "$size" "$signer" >&2
[ -n "$key$passfile" ] || exit 0

# --- the data key
if [ -n "$key" ]; then
  mine=$(fpr_key "$key") || die "cannot read private key \"$key\"" 2
  wrapped=$(sed -n "s/^recipient: rsa-oaep-sha256 $mine //p" "$tmp/header")
  [ -n "$wrapped" ] || die "archive is not encrypted to key $mine (it is encrypted to: $(sed -n 's/^recipient: rsa-oaep-sha256 \([0-9a-f]*\) .*/\1/p' "$tmp/header" | tr '\n' ' '))"
  printf '%s' "$wrapped" | unb64 > "$tmp/wrapped"
  openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
    -pkeyopt rsa_mgf1_md:sha256 -in "$tmp/wrapped" -out "$tmp/dk" 2>/dev/null || die 'the wrapped data key does not decrypt with this key'
else
  # shellcheck disable=SC2046 # split "SALT LOGN R P KEY" into words
  set -- $(field scrypt)
  [ $# -eq 5 ] || die 'archive is not sealed with a passphrase'
  pass=$(head -n 1 "$passfile" | tr -d '\r')
  salt=$(printf '%s' "$1" | unb64 | od -An -tx1 -v | tr -d ' \n')
  kek=$(openssl kdf -keylen 32 -kdfopt "pass:$pass" -kdfopt "hexsalt:$salt" -kdfopt "n:$((1 << $2))" \
    -kdfopt "r:$3" -kdfopt "p:$4" SCRYPT | tr -d ':' | tr 'A-F' 'a-f')
  printf '%s' "$5" | unb64 | head -c 32 |
    openssl enc -d -aes-256-ctr -K "$kek" -iv 00000000000000000000000000000002 > "$tmp/dk"
fi
dk=$(od -An -tx1 -v "$tmp/dk" | tr -d ' \n')
[ ${#dk} -eq 64 ] || die 'the data key is not 32 bytes'

# --- the chunks: chunk i is at P + i*(C+16); its nonce is i (11 bytes) || final flag
C=$(field chunk)
compress=$(field compress)
CL=$((C + 16))
P=$((hlen + slen))
PL=$((L - P))
n=$(((PL + CL - 1) / CL))
[ $((PL - (n - 1) * CL)) -ge 16 ] || die 'the final chunk is shorter than its tag'
chunk() {
  i=$1
  len=$CL flag=00
  if [ "$i" -eq $((n - 1)) ]; then len=$((PL - i * CL)) flag=01; fi
  tail -c +$((P + i * CL + 1)) "$f" | head -c $((len - 16)) |
    openssl enc -d -aes-256-ctr -K "$dk" -iv "$(printf '%022x' "$i")${flag}00000002"
}

[ "$PL" -gt 16 ] || exit 0 # an empty payload: one empty final chunk

# A wrong key or passphrase gives noise: the first bytes must be the payload's magic.
case $compress in
  zstd) magic=28b52ffd ;;
  gzip) magic=1f8b ;;
  none) magic=4241434b54 ;; # "BACKT": the stream's header frame is named BACKTORY.header
  *) die "unknown compression \"$compress\"" ;;
esac
[ "$(chunk 0 2>/dev/null | head -c $((${#magic} / 2)) | od -An -tx1 | tr -d ' \n')" = "$magic" ] ||
  die 'the payload does not decrypt to a backtory stream: wrong key or passphrase'

decrypt() {
  i=0
  while [ "$i" -lt "$n" ]; do
    chunk "$i" || { echo "chunk $i" > "$tmp/failed"; return 1; }
    i=$((i + 1))
  done
}
case $compress in
  zstd) decrypt | zstd -dcq ;;
  gzip) decrypt | gzip -dc ;;
  none) decrypt ;;
esac || die "decompression failed"
[ ! -f "$tmp/failed" ] || die "decryption failed at $(cat "$tmp/failed")" 1
