#!/bin/sh
# bt-put and bt-get against curl -T / curl -o, to the same local vsftpd, and
# against OpenSSH's sftp, to the same local sshd, in one run: a sealed archive
# of SIZE_MB (default 2048 MiB) of random data, uploaded and downloaded by
# each; throughput ratios and peak RSS.
#
#   sh bench/remote.sh            (as root: the server runs as a test user; needs npm run build)
#
# Scratch goes to $BENCH_DIR (default /var/tmp/bt-bench-remote), removed at the end.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
SIZE_MB=${SIZE_MB:-2048}
VOLUME=${VOLUME:-1G}
W=${BENCH_DIR:-/var/tmp/bt-bench-remote}
bin=$here/bin
command -v curl >/dev/null || die 'curl is not installed' 'apt-get install curl'
[ -x /usr/sbin/vsftpd ] || die 'vsftpd is not installed' 'apt-get install vsftpd'
if [ ! -x /usr/sbin/sshd ] || ! command -v sftp >/dev/null; then
	die 'sshd or sftp is not installed' 'apt-get install openssh-server openssh-client'
fi
rm -rf "$W"
mkdir -p "$W/src"
server_pid=
sshd_pid=
cleanup() {
	for p in $server_pid $sshd_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

say "making a sealed archive of $SIZE_MB MiB"
head -c "$((SIZE_MB * 1048576))" /dev/urandom >"$W/src/blob"
node "$bin/bt-scan.js" "$W/src" | node "$bin/bt-seal.js" --compress none --to "$here/test/fixtures/keys/admin.pub" \
	--sign "$here/test/fixtures/keys/host.key" --set bench -o "$W/archive.bts"
rm -f "$W/src/blob"
bytes=$(wc -c <"$W/archive.bts")

node "$here/bench/ftp-server.js" >"$W/server" &
server_pid=$!
for _ in $(seq 100); do [ -s "$W/server" ] && break; sleep 0.1; done
read -r port user password dir localdir <"$W/server" || die 'the FTP server did not start'
url="ftp://$user@127.0.0.1:$port$dir"

# run NAME CMD...: wall seconds and peak RSS (MiB) of CMD, into $W/NAME.t and .rss
run() {
	name=$1
	shift
	sync
	t0=$(now_ns)
	/usr/bin/time -f '%M' -o "$W/$name.rss" "$@"
	t1=$(now_ns)
	echo "$(((t1 - t0) / 1000000))" >"$W/$name.ms"
}

say "cpu busy before the run: $(cpu_busy)%"
export BT_PASSWORD="$password"
run curl_put curl -sS --user "$user:$password" -T "$W/archive.bts" "$url/curl.bin"
rm -f "$localdir/curl.bin"
run bt_put sh -c "node '$bin/bt-put.js' --volume-size '$VOLUME' '$url' <'$W/archive.bts' >'$W/name'"
# curl's download needs an object of the same size: the first volume set is one file per volume, so upload one whole copy
curl -sS --user "$user:$password" -T "$W/archive.bts" "$url/curl.bin"
run curl_get curl -sS --user "$user:$password" -o /dev/null "$url/curl.bin"
run bt_get sh -c "node '$bin/bt-get.js' '$url/latest' >/dev/null"

node "$here/bench/sftp-server.js" "$W/id" >"$W/sshd" &
sshd_pid=$!
for _ in $(seq 100); do [ -s "$W/sshd" ] && break; sleep 0.1; done
read -r sport suser known sdir _ <"$W/sshd" || die 'sshd did not start'
surl="sftp://$suser@127.0.0.1:$sport$sdir"
ssh_opts="-i $W/id -o UserKnownHostsFile=$known -o StrictHostKeyChecking=yes -o BatchMode=yes -P $sport"
# shellcheck disable=SC2086 # ssh_opts is a list of options
run sftp_put sh -c "echo 'put $W/archive.bts sftp.bin' | sftp -q $ssh_opts -b - '$suser@127.0.0.1:$sdir' >/dev/null"
run bts_put sh -c "node '$bin/bt-put.js' --identity '$W/id' --known-hosts '$known' --volume-size '$VOLUME' '$surl' <'$W/archive.bts' >/dev/null"
run sftp_get sh -c "echo 'get sftp.bin /dev/null' | sftp -q $ssh_opts -b - '$suser@127.0.0.1:$sdir' >/dev/null"
run bts_get sh -c "node '$bin/bt-get.js' --identity '$W/id' --known-hosts '$known' '$surl/latest' >/dev/null"

mb() { awk -v b="$bytes" -v ms="$(cat "$W/$1.ms")" 'BEGIN { printf "%.0f", b / 1000000 / (ms / 1000) }'; }
ratio() { awk -v a="$(cat "$W/$1.ms")" -v b="$(cat "$W/$2.ms")" 'BEGIN { printf "%.2f", a / b }'; }
rss() { awk -v k="$(cat "$W/$1.rss")" 'BEGIN { printf "%.0f", k / 1024 }'; }
printf '%-14s %12s %10s %8s %12s\n' step 'other MB/s' 'bt MB/s' ratio 'bt RSS MiB'
printf '%-14s %12s %10s %8s %12s\n' 'ftp upload' "$(mb curl_put)" "$(mb bt_put)" "$(ratio curl_put bt_put)" "$(rss bt_put)"
printf '%-14s %12s %10s %8s %12s\n' 'ftp download' "$(mb curl_get)" "$(mb bt_get)" "$(ratio curl_get bt_get)" "$(rss bt_get)"
printf '%-14s %12s %10s %8s %12s\n' 'sftp upload' "$(mb sftp_put)" "$(mb bts_put)" "$(ratio sftp_put bts_put)" "$(rss bts_put)"
printf '%-14s %12s %10s %8s %12s\n' 'sftp download' "$(mb sftp_get)" "$(mb bts_get)" "$(ratio sftp_get bts_get)" "$(rss bts_get)"
say "archive $bytes bytes, volumes of $VOLUME; other = curl -T/-o (ftp), OpenSSH sftp (sftp)"
say "ratio = backtory MB/s / the other's MB/s (goal for ftp: 0.9 or more)"
