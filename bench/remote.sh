#!/bin/sh
# bt-put and bt-get against curl -T / curl -o, to the same local vsftpd,
# against OpenSSH's sftp, to the same local sshd, and against rclone copyto /
# rclone cat, to the same bucket of a local Ceph radosgw, in one run: a sealed
# archive of SIZE_MB (default 2048 MiB) of random data, uploaded and downloaded
# by each; throughput ratios and peak RSS.
#
#   sh bench/remote.sh            (as root: the server runs as a test user; needs npm run build)
#   TARGETS=s3 sh bench/remote.sh (only some of: ftp sftp s3)
#
# Scratch goes to $BENCH_DIR (default /var/tmp/bt-bench-remote), removed at the end.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$here/bench/lib.sh"
SIZE_MB=${SIZE_MB:-2048}
TARGETS=${TARGETS:-ftp sftp s3}
has() { case " $TARGETS " in *" $1 "*) return 0 ;; esac; return 1; }
VOLUME=${VOLUME:-1G}
W=${BENCH_DIR:-/var/tmp/bt-bench-remote}
bin=$here/bin
if has ftp; then
	command -v curl >/dev/null || die 'curl is not installed' 'apt-get install curl'
	[ -x /usr/sbin/vsftpd ] || die 'vsftpd is not installed' 'apt-get install vsftpd'
fi
if has sftp && { [ ! -x /usr/sbin/sshd ] || ! command -v sftp >/dev/null; }; then
	die 'sshd or sftp is not installed' 'apt-get install openssh-server openssh-client'
fi
if has s3 && { [ ! -x /usr/bin/radosgw ] || ! command -v rclone >/dev/null; }; then
	die 'radosgw or rclone is not installed' 'apt-get install radosgw ceph-mon ceph-osd rclone'
fi
rm -rf "$W"
mkdir -p "$W/src"
server_pid=
sshd_pid=
rgw_pid=
cleanup() {
	for p in $server_pid $sshd_pid $rgw_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

say "making a sealed archive of $SIZE_MB MiB"
head -c "$((SIZE_MB * 1048576))" /dev/urandom >"$W/src/blob"
node "$bin/bt-scan.js" "$W/src" | node "$bin/bt-seal.js" --compress none --to "$here/test/fixtures/keys/admin.pub" \
	--sign "$here/test/fixtures/keys/host.key" --set bench -o "$W/archive.bts"
rm -f "$W/src/blob"
bytes=$(wc -c <"$W/archive.bts")

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
if has ftp; then
	node "$here/bench/ftp-server.js" >"$W/server" &
	server_pid=$!
	for _ in $(seq 100); do [ -s "$W/server" ] && break; sleep 0.1; done
	read -r port user password dir localdir <"$W/server" || die 'the FTP server did not start'
	url="ftp://$user@127.0.0.1:$port$dir"

	export BT_PASSWORD="$password"
	run curl_put curl -sS --user "$user:$password" -T "$W/archive.bts" "$url/curl.bin"
	rm -f "$localdir/curl.bin"
	run bt_put sh -c "node '$bin/bt-put.js' --volume-size '$VOLUME' '$url' <'$W/archive.bts' >'$W/name'"
	# curl's download needs an object of the same size: the first volume set is one file per volume, so upload one whole copy
	curl -sS --user "$user:$password" -T "$W/archive.bts" "$url/curl.bin"
	run curl_get curl -sS --user "$user:$password" -o /dev/null "$url/curl.bin"
	run bt_get sh -c "node '$bin/bt-get.js' '$url/latest' >/dev/null"

fi

if has sftp; then
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

fi

if has s3; then
	node "$here/bench/s3-server.js" >"$W/rgw" &
	rgw_pid=$!
	for _ in $(seq 600); do [ -s "$W/rgw" ] && break; sleep 0.1; done
	read -r endpoint key secret <"$W/rgw" || die 'radosgw did not start'
	export AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" BT_S3_ENDPOINT="$endpoint"
	# rclone's remote "bts3", from the environment: no config file.
	export RCLONE_CONFIG_BTS3_TYPE=s3 RCLONE_CONFIG_BTS3_PROVIDER=Ceph RCLONE_CONFIG_BTS3_ENDPOINT="$endpoint" \
		RCLONE_CONFIG_BTS3_ACCESS_KEY_ID="$key" RCLONE_CONFIG_BTS3_SECRET_ACCESS_KEY="$secret"
	# rclone 1.60 cannot use AWS_CA_BUNDLE with its own transport, and plain http needs no CA.
	rclone() { env -u AWS_CA_BUNDLE rclone "$@"; }
	rclone mkdir bts3:bench
	run rcl_put env -u AWS_CA_BUNDLE rclone copyto "$W/archive.bts" bts3:bench/rclone.bin
	run bt3_put sh -c "node '$bin/bt-put.js' --volume-size '$VOLUME' s3://bench/bt/ <'$W/archive.bts' >/dev/null"
	run rcl_get sh -c "env -u AWS_CA_BUNDLE rclone cat bts3:bench/rclone.bin >/dev/null"
	run bt3_get sh -c "node '$bin/bt-get.js' s3://bench/bt/latest >/dev/null"
fi

mb() { awk -v b="$bytes" -v ms="$(cat "$W/$1.ms")" 'BEGIN { printf "%.0f", b / 1000000 / (ms / 1000) }'; }
ratio() { awk -v a="$(cat "$W/$1.ms")" -v b="$(cat "$W/$2.ms")" 'BEGIN { printf "%.2f", a / b }'; }
rss() { awk -v k="$(cat "$W/$1.rss")" 'BEGIN { printf "%.0f", k / 1024 }'; }
printf '%-14s %12s %10s %8s %12s\n' step 'other MB/s' 'bt MB/s' ratio 'bt RSS MiB'
row() { printf '%-14s %12s %10s %8s %12s\n' "$1" "$(mb "$2")" "$(mb "$3")" "$(ratio "$2" "$3")" "$(rss "$3")"; }
if has ftp; then row 'ftp upload' curl_put bt_put; row 'ftp download' curl_get bt_get; fi
if has sftp; then row 'sftp upload' sftp_put bts_put; row 'sftp download' sftp_get bts_get; fi
if has s3; then row 's3 upload' rcl_put bt3_put; row 's3 download' rcl_get bt3_get; fi
say "archive $bytes bytes, volumes of $VOLUME; other = curl -T/-o (ftp), OpenSSH sftp (sftp), rclone copyto/cat (s3, radosgw)"
say "ratio = backtory MB/s / the other's MB/s (goal for ftp: 0.9 or more)"
