# shellcheck shell=sh
# recover-lib.sh: the POSIX sh functions every recover.sh embeds (bt-mkrecover(1)).
# Not a script of its own: bt-mkrecover writes the layout's variables and steps
# after it. Every command that changes something goes through bt_run, so that
# --plan prints it instead, the log holds it with its output, and a failure
# stops the run with the step, the command and how to resume.

BT_ME=recover.sh
BT_PLAN=0 BT_FORCE=0 BT_YES=0 BT_NO_RESTORE=0 BT_NO_BOOT=0
BT_MAPS='' BT_KEY='' BT_KEYPASS='' BT_AT='' BT_ID='' BT_PASSFILE='' BT_BACKTORY=''
BT_TARGET=/mnt/backtory-recover
BT_LOG=${TMPDIR:-/tmp}/backtory-recover.log
BT_EXIT=1 BT_CHECKING=0 BT_MADE='' BT_HINT='' BT_STEP='' BT_STEPS=0 BT_WORK='' BT_DEV='' BT_LAST='' info=''

bt_say() { printf '%s: %s\n' "$BT_ME" "$*" >&2; }
bt_die() {
  printf '%s: error: %s\n' "$BT_ME" "$1" >&2
  shift
  for h in "$@"; do printf '%s: hint: %s\n' "$BT_ME" "$h" >&2; done
  exit "$BT_EXIT"
}
# bt_usage_err MESSAGE [HINT...]: a mistake in the command line, exit 2.
bt_usage_err() {
  BT_EXIT=2
  bt_die "$@"
}
bt_usage() {
  printf '%s\n' "usage: sh $BT_ME --plan [--map OLD=NEW,...]" \
    "       sh $BT_ME --map OLD=NEW,... --key ADMIN.key [--key-passphrase-file F] [--at TIME | --id ID]" \
    '              [--store URL] [--password-file F] [--backtory DIR] [--target DIR] [--force] [--yes]' \
    '              [--no-restore] [--no-boot] [--log FILE]' \
    "       sh $BT_ME --layout" >&2
  exit 2
}

# bt_quote ARG: ARG as sh reads it back, quoted only when it must be.
bt_quote() {
  case $1 in
    '' | *[!A-Za-z0-9_./:=@%+,-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
    *) printf '%s' "$1" ;;
  esac
}
bt_cmdline() {
  s=''
  for a in "$@"; do s="$s${s:+ }$(bt_quote "$a")"; done
  printf '%s' "$s"
}

bt_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      --plan) BT_PLAN=1 ;;
      --layout) bt_layout; exit 0 ;;
      --force) BT_FORCE=1 ;;
      --yes) BT_YES=1 ;;
      --no-restore) BT_NO_RESTORE=1 ;;
      --no-boot) BT_NO_BOOT=1 ;;
      -h | --help) bt_usage ;;
      --map | --key | --key-passphrase-file | --at | --id | --store | --password-file | --target | --log | --backtory | --set)
        if [ $# -lt 2 ] || [ -z "$2" ]; then bt_usage_err "option $1 needs a value" "see sh $BT_ME --help"; fi
        case $1 in
          --map) BT_MAPS="$BT_MAPS${BT_MAPS:+,}$2" ;;
          --key) BT_KEY=$2 ;;
          --key-passphrase-file) BT_KEYPASS=$2 ;;
          --at) BT_AT=$2 ;;
          --id) BT_ID=$2 ;;
          --store) BT_STORE=$2 ;;
          --set) BT_SET=$2 ;;
          --password-file) BT_PASSFILE=$2 ;;
          --target) BT_TARGET=$2 ;;
          --log) BT_LOG=$2 ;;
          --backtory) BT_BACKTORY=$2 ;;
        esac
        shift ;;
      *) bt_usage_err "unknown option $1" "see sh $BT_ME --help" ;;
    esac
    shift
  done
  [ -z "$BT_AT" ] || [ -z "$BT_ID" ] || bt_usage_err 'give --at or --id, not both'
  case $BT_TARGET in /*) ;; *) bt_usage_err "--target must be an absolute path: \"$BT_TARGET\"" ;; esac
  BT_TARGET=${BT_TARGET%/}
  [ -n "$BT_TARGET" ] || bt_usage_err '--target / would restore over the rescue system itself'
}

# --- the disk mapping: BT_MAP_<name> holds the new disk for the old disk <name>
bt_var() { printf '%s' "$1" | tr -c 'A-Za-z0-9\n' '_'; }
bt_mapped() { eval "printf '%s' \"\${BT_MAP_$(bt_var "$1"):-}\""; }
bt_map() {
  rest=$BT_MAPS
  while [ -n "$rest" ]; do
    pair=${rest%%,*}
    [ "$pair" = "$rest" ] && rest='' || rest=${rest#*,}
    old=${pair%%=*} new=${pair#*=}
    if [ "$old" = "$pair" ] || [ -z "$old" ] || [ -z "$new" ]; then bt_usage_err "--map wants OLD=NEW, not \"$pair\""; fi
    old=${old#/dev/}
    case " $BT_DISKS " in *" $old "*) ;; *) bt_usage_err "--map names disk \"$old\", which the layout does not have" "its disks: $BT_DISKS" ;; esac
    case $new in /*) ;; *) new=/dev/$new ;; esac
    eval "BT_MAP_$(bt_var "$old")=\$new"
  done
  unmapped=''
  for d in $BT_DISKS; do [ -n "$(bt_mapped "$d")" ] || unmapped="$unmapped $d"; done
  [ -z "$unmapped" ] && return 0
  if [ "$BT_PLAN" = 1 ]; then
    for d in $unmapped; do eval "BT_MAP_$(bt_var "$d")='<new $d>'"; done
    return 0
  fi
  # No --map for a disk: the rescue system's disk of the same name, confirmed.
  for d in $unmapped; do eval "BT_MAP_$(bt_var "$d")=/dev/$d"; done
  [ "$BT_YES" = 1 ] && return 0
  [ -t 0 ] || bt_die "no --map for disk(s)$unmapped, and no terminal to confirm on" \
    "say which new disk stands for each old one: --map sda=/dev/vdb (or --yes to use the same names)"
  bt_show_map
  printf 'Everything on these new disks will be overwritten. Type yes to go on: ' >&2
  read -r answer || answer=''
  [ "$answer" = yes ] || bt_die 'not confirmed: nothing was changed'
}
bt_show_map() {
  printf 'disks (old -> new):\n'
  for d in $BT_DISKS; do
    eval "info=\$BT_DISK_$(bt_var "$d")"
    # shellcheck disable=SC2086 # SIZE PATH TABLE
    set -- $info
    printf '  %s (%s bytes, %s, was %s) -> %s\n' "$d" "$1" "$3" "$2" "$(bt_mapped "$d")"
  done
}

# bt_partnode DISK N: the node of partition N of DISK (sda1, nvme0n1p1, loop0p1).
bt_partnode() {
  case $1 in *[0-9]) printf '%sp%s' "$1" "$2" ;; *) printf '%s%s' "$1" "$2" ;; esac
}

# bt_dev REF: sets BT_DEV to the device REF names on this system.
bt_dev() {
  case $1 in
    disk:*) BT_DEV=$(bt_mapped "${1#disk:}") ;;
    part:*)
      bt_r=${1#part:}
      disk=$(bt_mapped "${bt_r%:*}")
      BT_DEV=$(bt_partnode "$disk" "${1##*:}")
      if [ "$BT_PLAN" = 0 ] && [ ! -b "$BT_DEV" ]; then
        # A check only asks: a partition not there yet means "not done", not a failure.
        if [ "$BT_CHECKING" = 1 ]; then partx -u "$disk" > /dev/null 2>&1; [ -b "$BT_DEV" ]; return; fi
        bt_wait_part "$disk" "$BT_DEV"
      fi ;;
    md:*) BT_DEV=/dev/md/${1#md:} ;;
    lv:*) BT_DEV=/dev/${1#lv:} ;;
    luks:*) BT_DEV=/dev/mapper/${1#luks:} ;;
    zvol:*) BT_DEV=/dev/zvol/${1#zvol:} ;;
    *) bt_die "unknown device reference \"$1\"" ;;
  esac
  [ -n "$BT_DEV" ] || bt_die "no device for \"$1\""
}

# The kernel here may not scan a new table by itself (loop devices): partx does.
bt_wait_part() {
  partx -u "$1" >/dev/null 2>&1 || partx -a "$1" >/dev/null 2>&1 || :
  i=0
  while [ ! -b "$2" ] && [ "$i" -lt 20 ]; do
    command -v udevadm >/dev/null 2>&1 && udevadm settle >/dev/null 2>&1
    sleep 1
    i=$((i + 1))
  done
  [ -b "$2" ] || bt_fail "partition node $2 did not appear" "partx -u $1"
}

# --- running commands
bt_log() { [ "$BT_PLAN" = 1 ] || printf '%s\n' "$*" >> "$BT_LOG"; }

# bt_run CMD ARG...: runs it, logged with its output; @REF arguments name devices.
bt_run() { bt_exec '' "$@"; }
# bt_run_made CHECK CMD ARG...: as bt_run, but a failure after which CHECK holds is only
# logged (zfs-fuse makes a pool or dataset, then fails to mount it where it must not yet be).
bt_run_made() { BT_MADE=$1; shift; bt_exec '' "$@"; BT_MADE=''; }
# bt_run_in FILE CMD ARG...: the same with standard input from FILE.
bt_run_in() { f=$1; shift; bt_exec "$f" "$@"; }
# bt_run_tty CMD ARG...: a command that talks to the admin (a passphrase prompt).
bt_run_tty() { bt_exec - "$@"; }

bt_exec() {
  bt_in=$1
  shift
  bt_n=$#
  while [ "$bt_n" -gt 0 ]; do
    bt_a=$1
    shift
    case $bt_a in @disk:* | @part:* | @md:* | @lv:* | @luks:* | @zvol:*) bt_dev "${bt_a#@}"; bt_a=$BT_DEV ;; esac
    set -- "$@" "$bt_a"
    bt_n=$((bt_n - 1))
  done
  BT_LAST=$(bt_cmdline "$@")
  case $bt_in in '' | -) ;; *) BT_LAST="$BT_LAST < $(bt_quote "$bt_in")" ;; esac
  if [ "$BT_PLAN" = 1 ]; then
    printf '      %s\n' "$BT_LAST"
    return 0
  fi
  printf '  $ %s\n' "$BT_LAST" >&2
  bt_log "\$ $BT_LAST"
  case $bt_in in
    -) "$@" ;;
    '') "$@" > "$BT_WORK/out" 2>&1 ;;
    *) "$@" < "$bt_in" > "$BT_WORK/out" 2>&1 ;;
  esac
  bt_rc=$?
  [ "$bt_in" = - ] || cat "$BT_WORK/out" >> "$BT_LOG"
  [ "$bt_rc" -eq 0 ] && return 0
  if [ -n "${BT_MADE:-}" ] && eval "$BT_MADE" > /dev/null 2>&1; then
    bt_log "# exit status $bt_rc, but it was made ($BT_MADE): going on"
    return 0
  fi
  bt_fail "exit status $bt_rc"
}

# bt_fail WHAT [COMMAND]: the failure report, then exit 1 (BT_HINT: a hint of its own).
bt_fail() {
  [ -z "${2:-}" ] || BT_LAST=$2
  {
    printf '%s: error: step %s failed: %s\n' "$BT_ME" "$BT_STEP" "$1"
    [ -z "${BT_HINT:-}" ] || printf '%s: hint: %s\n' "$BT_ME" "$BT_HINT"
    [ -z "$BT_LAST" ] || printf '%s: command: %s\n' "$BT_ME" "$BT_LAST"
    if [ -s "$BT_WORK/out" ]; then
      printf '%s: its output (last lines):\n' "$BT_ME"
      tail -n 15 "$BT_WORK/out" | sed 's/^/    /'
    fi
    printf '%s: log: %s\n' "$BT_ME" "$BT_LOG"
    printf '%s: hint: fix that, then run the same command again: finished steps are skipped\n' "$BT_ME"
  } >&2
  bt_log "FAILED: step $BT_STEP: $1"
  exit 1
}

# bt_fail_hint WHAT HINT: a failure that is no command's, with what to do.
bt_fail_hint() {
  BT_HINT=$2 BT_LAST=''
  [ -z "$BT_WORK" ] || : > "$BT_WORK/out"
  bt_fail "$1"
}

# bt_note TEXT: a line of the plan (what a step will check or do besides commands).
bt_note() {
  if [ "$BT_PLAN" = 1 ]; then printf '      # %s\n' "$*"; else bt_log "# $*"; fi
}

bt_check() {
  BT_CHECKING=1
  "$1" > /dev/null 2>&1
  bt_ck=$?
  BT_CHECKING=0
  return $bt_ck
}

# bt_step N TITLE FUNC [always]: runs step N unless FUNC_done says it is done;
# "always": a step that checks and changes nothing, run every time.
bt_step() {
  BT_STEP="$1/$BT_STEPS ($2)" BT_LAST=''
  if [ "$BT_PLAN" = 1 ]; then
    printf '%3s. %s\n' "$1" "$2"
    "$3_run"
    return 0
  fi
  : > "$BT_WORK/out"
  if [ "${4:-}" != always ] && bt_check "$3_done"; then
    bt_say "step $1/$BT_STEPS: $2: done already, skipped"
    bt_log "== step $1/$BT_STEPS: $2: done already"
    return 0
  fi
  bt_say "step $1/$BT_STEPS: $2"
  bt_log "== step $1/$BT_STEPS: $2 ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
  "$3_run"
  [ "${4:-}" = always ] || bt_check "$3_done" || bt_fail 'its commands ran, but its result is not there' "$3_done"
}

bt_begin() {
  if [ "$BT_PLAN" = 1 ]; then
    printf '%s for %s, captured %s (layout version 1)\n' "$BT_ME" "$BT_HOST" "$BT_CAPTURED"
    printf 'nothing is touched: --plan prints what a run would do, in order; a run skips the steps already done\n'
    bt_show_map
    printf 'steps:\n'
    # shellcheck disable=SC2016 # printed as it stands, for the reader
    BT_WORK='$WORK'
    return 0
  fi
  [ "$(id -u)" = 0 ] || bt_die 'recovery needs root (it partitions disks and mounts file systems)'
  BT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/backtory-recover.XXXXXX") || bt_die 'cannot make a work directory'
  trap 'rm -rf "$BT_WORK"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  : >> "$BT_LOG" || bt_die "cannot write the log \"$BT_LOG\"" 'give another place with --log FILE'
  bt_log "== $BT_ME for $BT_HOST started $(date -u +%Y-%m-%dT%H:%M:%SZ): $(bt_show_map | tr '\n' ' ')"
  bt_say "log: $BT_LOG"
}

bt_end() {
  [ "$BT_PLAN" = 1 ] && return 0
  bt_log "== done $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  bt_say "done: $BT_HOST is recovered onto $(for d in $BT_DISKS; do printf '%s ' "$(bt_mapped "$d")"; done)(log: $BT_LOG)"
}

# bt_workfile NAME: a file of the work directory to write (nowhere under --plan).
bt_workfile() { if [ "$BT_PLAN" = 1 ]; then printf /dev/null; else printf '%s/%s' "$BT_WORK" "$1"; fi; }

# --- disks
bt_size() { blockdev --getsize64 "$1" 2>/dev/null || echo 0; }
bt_known_uuid() { [ -n "$1" ] && case " $BT_UUIDS " in *" $1 "*) true ;; *) false ;; esac; }

# bt_holds_data DEV: true when DEV has a signature (table, file system) we did not make.
bt_holds_data() {
  [ -z "$(wipefs -n "$1" 2>/dev/null)" ] && [ -z "$(blkid -p -o value -s TYPE "$1" 2>/dev/null)" ] && return 1
  bt_known_uuid "$(blkid -p -o value -s UUID "$1" 2>/dev/null)" && return 1
  return 0
}

# bt_check_disks: before anything is touched, every new disk is big enough, and blank or --force.
bt_check_disks() {
  for d in $BT_DISKS; do
    eval "info=\$BT_DISK_$(bt_var "$d")"
    # shellcheck disable=SC2086 # SIZE PATH TABLE
    set -- $info
    new=$(bt_mapped "$d")
    if [ "$BT_PLAN" = 1 ]; then
      bt_note "$new: a block device of at least $1 bytes; refused if it holds data (unless --force)"
      continue
    fi
    [ -b "$new" ] || bt_fail "$new (for $d) is not a block device"
    have=$(bt_size "$new")
    [ "$have" -ge "$1" ] || bt_fail "$new is smaller than $d was: $have bytes, $d had $1 bytes" "blockdev --getsize64 $new"
    if ! bt_table_done "$d" && bt_holds_data "$new"; then
      [ "$BT_FORCE" = 1 ] || bt_fail "$new holds data: $(wipefs -n "$new" 2>/dev/null | sed -n 2p | tr -s ' ')$(blkid -p -o value -s TYPE "$new" 2>/dev/null)" "wipefs -n $new"
      bt_say "$new holds data; --force: it is overwritten"
    fi
  done
}

# bt_table DISK: the captured table of DISK without the lines that name the old device.
bt_norm_table() {
  while IFS= read -r line; do
    case $line in
      device:* | last-lba:* | first-lba:* | unit:* | sector-size:* | '') ;;
      /dev/*' : '*)
        node=${line%% : *}
        printf '@%s:%s\n' "${node##*[!0-9]}" "$(printf '%s' "${line#* : }" | tr -d ' ')" ;;
      *) printf '%s\n' "$line" | tr -d ' ' ;;
    esac
  done
}
bt_table_done() {
  new=$(bt_mapped "$1")
  [ -b "$new" ] || return 1
  want=$("bt_table_$(bt_var "$1")" | bt_norm_table)
  have=$(sfdisk --dump "$new" 2>/dev/null | bt_norm_table)
  [ -n "$have" ] && [ "$want" = "$have" ]
}

# bt_sfdisk DISK: replays the captured table on DISK's new disk, with its partitions' new names.
bt_sfdisk() {
  new=$(bt_mapped "$1")
  "bt_table_$(bt_var "$1")" | while IFS= read -r line; do
    case $line in
      device:* | last-lba:*) ;;
      /dev/*' : '*) node=${line%% : *}; printf '%s : %s\n' "$(bt_partnode "$new" "${node##*[!0-9]}")" "${line#* : }" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done > "$(bt_workfile "table-$1")"
  bt_note "the partition table of $1 as captured (sfdisk --dump), for $new"
  bt_run_in "$BT_WORK/table-$1" sfdisk --no-reread --wipe always --wipe-partitions always "$new"
  bt_run partx -u "$new"
}

bt_md_done() { [ -b "/dev/md/$1" ] && mdadm --detail "/dev/md/$1" 2>/dev/null | grep -qi "UUID : $2"; }

# bt_md NAME UUID LEVEL METADATA CHUNK LAYOUT MEMBER...: assemble when the members carry it, else create.
bt_md() {
  name=$1 uuid=$2 level=$3 meta=$4 chunk=$5 layout=$6
  shift 6
  if [ "$BT_PLAN" = 0 ]; then
    bt_dev "${1#@}"
    if mdadm --examine --brief "$BT_DEV" 2>/dev/null | grep -qi "UUID=$uuid"; then
      # A rescue system booted again may have assembled it by itself under a name
      # of its own (/dev/md127, its members then busy): stopped, then assembled here.
      for a in /dev/md[0-9]*; do
        [ -b "$a" ] && mdadm --detail "$a" 2>/dev/null | grep -qi "UUID : $uuid" && bt_run mdadm --stop "$a"
      done
      bt_run mdadm --assemble "/dev/md/$name" --uuid="$uuid" "$@"
      return 0
    fi
  else
    bt_note "assembled instead when its members carry UUID $uuid already"
  fi
  extra=''
  [ "$chunk" = - ] || extra="--chunk=$chunk"
  [ "$layout" = - ] || extra="$extra --layout=$layout"
  # shellcheck disable=SC2086 # the optional --chunk and --layout
  bt_run mdadm --create "/dev/md/$name" --run --level="$level" --metadata="$meta" --uuid="$uuid" \
    --name="$name" --raid-devices=$# $extra "$@"
}

bt_luks_done() { bt_dev "$1" && [ "$(cryptsetup luksUUID "$BT_DEV" 2>/dev/null)" = "$2" ]; }
bt_luks_open_done() { [ -b "/dev/mapper/$1" ]; }

bt_lvm_done() { [ "$(vgs --noheadings -o vg_uuid "$1" 2>/dev/null | tr -d ' -')" = "$(printf '%s' "$2" | tr -d -)" ]; }
bt_lvs_done() { for lv in "$@"; do [ -b "/dev/$lv" ] || return 1; done; }

bt_fs_done() {
  bt_dev "$1"
  [ "$(blkid -p -o value -s TYPE "$BT_DEV" 2>/dev/null)" = "$2" ] || return 1
  [ -z "$3" ] || [ "$(blkid -p -o value -s UUID "$BT_DEV" 2>/dev/null)" = "$3" ]
}

# --- btrfs subvolumes: made in the top of the file system, mounted aside for that.
bt_btrfs_top() {
  bt_dev "$1"
  top=$BT_WORK/btrfs-top
  mkdir -p "$top"
  mount -o subvolid=5 "$BT_DEV" "$top"
}
bt_subvols_done() {
  bt_btrfs_top "$1" || return 1
  dev=$1
  shift
  ok=0
  for s in "$@"; do btrfs subvolume show "$top/$s" > /dev/null 2>&1 || ok=1; done
  umount "$top"
  return $ok
}
bt_subvols() {
  dev=$1 default=$2
  shift 2
  if [ "$BT_PLAN" = 1 ]; then
    bt_note "mounted aside (subvolid=5) to make them"
    for s in "$@"; do bt_run btrfs subvolume create "\$top/$s"; done
    [ "$default" = - ] || bt_run btrfs subvolume set-default "\$top/$default"
    return 0
  fi
  bt_btrfs_top "$dev" || bt_fail "cannot mount $BT_DEV to make its subvolumes" "mount -o subvolid=5 $BT_DEV $top"
  for s in "$@"; do
    btrfs subvolume show "$top/$s" > /dev/null 2>&1 || bt_run btrfs subvolume create "$top/$s"
  done
  [ "$default" = - ] || bt_run btrfs subvolume set-default "$top/$default"
  bt_run umount "$top"
}

# --- ZFS: pools are made, or imported when there, without mounting (the tree is mounted in order).
bt_zdevs() {
  zdir=$BT_WORK/zdev-$1
  mkdir -p "$zdir"
  shift
  for r in "$@"; do bt_dev "$r"; ln -sf "$BT_DEV" "$zdir/"; done
}
bt_zpool_done() { zpool list -H -o name "$1" > /dev/null 2>&1; }
# bt_zpool POOL OPTION... -- VDEV...: created (options first, as zpool create wants them) unless imported.
bt_zpool() {
  pool=$1
  shift
  if [ "$BT_PLAN" = 0 ]; then
    # shellcheck disable=SC2046 # the @refs among the vdev words
    bt_zdevs "$pool" $(for w in "$@"; do case $w in @*) printf '%s ' "${w#@}" ;; esac; done)
    # -N: not mounted yet; zfs-fuse has no -N, so there its datasets are unmounted after.
    # Its status is not enough: zfs-fuse imports and fails when a mount point is busy.
    zpool import -N -R "$BT_TARGET" -d "$zdir" "$pool" > /dev/null 2>&1 ||
      zpool import -R "$BT_TARGET" -d "$zdir" "$pool" > /dev/null 2>&1
    if bt_zpool_done "$pool"; then
      bt_log "# pool $pool was there already: imported"
      bt_zfs_unmount "$pool"
      return 0
    fi
  else
    bt_note "imported instead (zpool import -N -R $BT_TARGET) when its devices hold it already"
  fi
  bt_k=$#
  while [ "$bt_k" -gt 0 ]; do
    bt_w=$1
    shift
    if [ "$bt_w" = -- ]; then set -- "$@" "$pool"; else set -- "$@" "$bt_w"; fi
    bt_k=$((bt_k - 1))
  done
  bt_run_made "bt_zpool_done $pool" zpool create -f -R "$BT_TARGET" "$@"
  bt_zfs_unmount "$pool"
}
# The pool's own datasets only: the rescue system may have pools of its own.
bt_zfs_unmount() {
  if [ "$BT_PLAN" = 1 ]; then bt_note "its datasets unmounted again, to be mounted in the tree's order"; return 0; fi
  zfs list -H -o name -r "$1" 2>/dev/null | sort -r | while read -r ds; do zfs unmount "$ds" > /dev/null 2>&1; done
  return 0
}
bt_datasets_done() { for ds in "$@"; do zfs list -H -o name "$ds" > /dev/null 2>&1 || return 1; done; }
bt_zfs_create() {
  ds=$1
  shift
  if [ "$BT_PLAN" = 0 ] && zfs list -H -o name "$ds" > /dev/null 2>&1; then return 0; fi
  bt_run_made "zfs list -H -o name $ds" zfs create "$@" "$ds"
  [ "$BT_PLAN" = 1 ] || zfs unmount "$ds" > /dev/null 2>&1 || :
}

# --- the mount tree
bt_mounted() { grep -q " $(printf '%s' "$1" | sed 's/ /\\040/g') " /proc/mounts; }
bt_mounts_done() { for m in "$@"; do bt_mounted "$BT_TARGET${m%/}" || return 1; done; }
# bt_mount TARGET SOURCE FSTYPE OPTIONS: one mount of the tree, below --target.
bt_mount() {
  at=$BT_TARGET${1%/}
  at=${at:-/}
  if [ "$BT_PLAN" = 0 ] && bt_mounted "$at"; then return 0; fi
  [ "$BT_PLAN" = 1 ] || [ -d "$at" ] || bt_run mkdir -p "$at"
  case $2 in
    zfs:*)
      ds=${2#zfs:}
      if [ "$(zfs get -H -o value mountpoint "$ds" 2>/dev/null)" = legacy ]; then
        bt_run mount -t zfs "$ds" "$at"
      else
        bt_run zfs mount "$ds"
      fi ;;
    *) bt_run mount -t "$3" -o "$4" "@$2" "$at" ;;
  esac
}

bt_mounts_below() { awk -v t="$BT_TARGET" '$2 == t || index($2, t "/") == 1 { print $2 }' /proc/mounts; }
bt_umount_all() {
  if [ "$BT_PLAN" = 1 ]; then
    bt_note "every mount below $BT_TARGET, deepest first${BT_POOLS:+; then zpool export $BT_POOLS}"
    return 0
  fi
  bt_mounts_below | sort -r > "$BT_WORK/mounts"
  while read -r m; do bt_run umount "$m"; done < "$BT_WORK/mounts"
  for p in $BT_POOLS; do
    ! zpool list -H -o name "$p" > /dev/null 2>&1 || bt_run zpool export "$p"
  done
}
bt_umount_done() {
  [ -z "$(bt_mounts_below)" ] || return 1
  for p in $BT_POOLS; do ! zpool list -H -o name "$p" > /dev/null 2>&1 || return 1; done
}

# --- fstab and crypttab: an identifier that changed is replaced, nothing else.
# bt_ids_fix REF:OLDUUID...: where the new device's UUID is not OLDUUID, swap it.
bt_new_uuid() { bt_dev "$1"; blkid -p -o value -s UUID "$BT_DEV" 2>/dev/null; }
bt_ids_done() {
  for pair in "$@"; do
    old=${pair##*=} ref=${pair%=*}
    new=$(bt_new_uuid "$ref")
    [ -z "$new" ] || [ "$new" = "$old" ] && continue
    for f in "$BT_TARGET/etc/fstab" "$BT_TARGET/etc/crypttab"; do
      [ ! -f "$f" ] || ! grep -q "$old" "$f" || return 1
    done
  done
}
bt_ids_fix() {
  if [ "$BT_PLAN" = 1 ]; then
    bt_note "a UUID that a file system, swap or LUKS volume could not keep is replaced in etc/fstab and etc/crypttab"
    return 0
  fi
  for pair in "$@"; do
    old=${pair##*=} ref=${pair%=*}
    new=$(bt_new_uuid "$ref")
    [ -z "$new" ] || [ "$new" = "$old" ] && continue
    for f in "$BT_TARGET/etc/fstab" "$BT_TARGET/etc/crypttab"; do
      [ -f "$f" ] && grep -q "$old" "$f" && bt_run sed -i "s/$old/$new/g" "$f"
    done
  done
  return 0
}

# --- restore: with node and backtory, or with openssl (bt-open.sh's recipe) and tar.
bt_state() { printf '%s/var/lib/backtory-recover' "$BT_TARGET"; }
bt_restore_done() {
  [ "$BT_NO_RESTORE" = 1 ] || grep -qx complete "$(bt_state)/restored" 2>/dev/null
}
bt_backtory() {
  if [ -n "$BT_BACKTORY" ]; then
    for b in "$BT_BACKTORY/backtory" "$BT_BACKTORY/backtory.js" "$BT_BACKTORY/bin/backtory" "$BT_BACKTORY/bin/backtory.js"; do
      [ -f "$b" ] && { printf '%s' "$b"; return 0; }
    done
    return 1
  fi
  command -v backtory 2>/dev/null || command -v backtory.js 2>/dev/null
}
bt_restore() {
  if [ "$BT_PLAN" = 1 ]; then
    [ "$BT_NO_RESTORE" = 0 ] || { bt_note 'skipped: --no-restore'; return 0; }
    bt_note "with node and backtory here: backtory restore --store ${BT_STORE:-URL} ${BT_SET:+--set $BT_SET }--key KEY --verify \$WORK/host.pub --numeric-owner [--at TIME | --id ID] --to $BT_TARGET"
    bt_note "without node: list the store, fetch the full (and the differential) for --at, verify and open them with openssl (bt-open.sh's recipe), extract the full with tar, apply the differential with the backtory of the restored system (chroot $BT_TARGET)"
    return 0
  fi
  [ -n "$BT_STORE" ] || bt_fail_hint 'the layout names no store' 'give --store URL'
  [ -n "$BT_KEY" ] || bt_fail_hint 'restoring needs the admin key' "give --key ADMIN.key (or --no-restore)"
  [ -r "$BT_KEY" ] || bt_fail "cannot read the key \"$BT_KEY\""
  bt_pubkey > "$BT_WORK/host.pub"
  mkdir -p "$(bt_state)"
  if command -v node > /dev/null 2>&1 && bt_backtory > /dev/null; then
    set -- restore --store "$BT_STORE" --key "$BT_KEY" --verify "$BT_WORK/host.pub" --numeric-owner --to "$BT_TARGET"
    [ -z "$BT_SET" ] || set -- "$@" --set "$BT_SET"
    [ -z "$BT_KEYPASS" ] || set -- "$@" --key-passphrase-file "$BT_KEYPASS"
    [ -z "$BT_PASSFILE" ] || set -- "$@" --password-file "$BT_PASSFILE"
    [ -z "$BT_AT" ] || set -- "$@" --at "$BT_AT"
    [ -z "$BT_ID" ] || set -- "$@" --id "$BT_ID"
    bt_run node "$(bt_backtory)" "$@"
  else
    bt_log '# no node or no backtory here: openssl and tar'
    bt_restore_tar
  fi
  echo complete >> "$(bt_state)/restored"
}

# bt_store_ls: the names in the store, one a line.
bt_store_ls() {
  case $BT_STORE in
    file://*) ls -1 "${BT_STORE#file://}" ;;
    /*) ls -1 "$BT_STORE" ;;
    ftp://* | ftps://* | sftp://*) bt_curl --list-only "${BT_STORE%/}/" ;;
    *) bt_fail_hint "without node, $BT_ME reads only file://, ftp://, ftps:// and sftp:// stores, not \"$BT_STORE\"" 'install node and backtory here' ;;
  esac
}
bt_curl() {
  : > "$BT_WORK/curl.conf"
  chmod 600 "$BT_WORK/curl.conf"
  if [ -n "$BT_PASSFILE" ]; then
    u=${BT_STORE#*://}
    u=${u%%@*}
    printf 'user = "%s:%s"\n' "$u" "$(head -n 1 "$BT_PASSFILE" | tr -d '\r' | sed 's/["\\]/\\&/g')" > "$BT_WORK/curl.conf"
  fi
  case $BT_STORE in ftps://*) set -- --ssl-reqd "$@" ;; esac
  curl -sS -K "$BT_WORK/curl.conf" "$@"
}

# bt_catalog: the complete backups as "TIME KIND ID BASE NAME VOLUMES", oldest first.
bt_catalog() {
  bt_store_ls | awk -v set="$BT_SET" '
    /\.[0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9]\.sealed$/ {
      name = substr($0, 1, length($0) - 20); nn = substr($0, length($0) - 10, 4) + 0
      n = split(name, f, "_")
      if (f[n - 1] == "full") { kind = "full"; id = f[n]; base = "-"; t = f[n - 2]; k = n - 3 }
      else if (n >= 5 && f[n - 2] == "diff") { kind = "diff"; id = f[n - 1]; base = f[n]; t = f[n - 3]; k = n - 4 }
      else next
      s = f[1]; for (i = 2; i <= k; i++) s = s "_" f[i]
      if (set != "" && s != set) next
      vols[name]++; need[name] = nn; line[name] = t " " kind " " id " " base " " name " " nn
    }
    END { for (b in vols) if (vols[b] == need[b]) print line[b] }' | sort
}

# bt_at_stamp: --at as YYYYMMDDTHHMMSSZ (the store's names), through date(1).
bt_at_stamp() {
  case $BT_AT in
    [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z) printf '%s' "$BT_AT"; return 0 ;;
    [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) a="$BT_AT 23:59:59" ;;
    *) a=$(printf '%s' "$BT_AT" | tr T ' ') ;;
  esac
  date -u -d "$a" +%Y%m%dT%H%M%SZ 2>/dev/null ||
    bt_fail_hint "cannot read --at \"$BT_AT\" without node" 'give it as 2026-11-20T03:00:00Z or 20261120T030000Z'
}

# bt_pick: "NAME VOLUMES" of the full and, when the point in time is a differential, of it.
bt_pick() {
  bt_catalog > "$BT_WORK/catalog"
  [ -s "$BT_WORK/catalog" ] || bt_fail "the store holds no complete backup${BT_SET:+ of set $BT_SET}" "ls $BT_STORE"
  if [ -n "$BT_ID" ]; then
    awk -v id="$BT_ID" '$5 == id || index($3, id) == 1 && length(id) >= 6' "$BT_WORK/catalog" | tail -n 1 > "$BT_WORK/pick"
  elif [ -n "$BT_AT" ]; then
    awk -v at="$(bt_at_stamp)" '$1 <= at' "$BT_WORK/catalog" | tail -n 1 > "$BT_WORK/pick"
  else
    tail -n 1 "$BT_WORK/catalog" > "$BT_WORK/pick"
  fi
  [ -s "$BT_WORK/pick" ] || bt_fail "no backup in the store matches ${BT_ID:-${BT_AT:-}}" "list them: ls $BT_STORE"
  read -r _ kind _ base name nvol < "$BT_WORK/pick"
  if [ "$kind" = diff ]; then
    full=$(awk -v id="$base" '$2 == "full" && $3 == id { print $5 " " $6 }' "$BT_WORK/catalog" | tail -n 1)
    [ -n "$full" ] || bt_fail "the differential $name needs the full $base, which the store does not hold whole"
    printf '%s\n%s %s\n' "$full" "$name" "$nvol"
  else
    printf '%s %s\n' "$name" "$nvol"
  fi
}

# bt_fetch NAME VOLUMES: the archive as one local file; its path in BT_ARCHIVE.
bt_fetch() {
  dir=${BT_STORE#file://}
  if [ "$2" = 1 ] && [ -f "$dir/$1.0001-of-0001.sealed" ]; then
    BT_ARCHIVE=$dir/$1.0001-of-0001.sealed
    return 0
  fi
  BT_ARCHIVE=$BT_WORK/$1.sealed
  : > "$BT_ARCHIVE"
  v=1
  while [ "$v" -le "$2" ]; do
    vol=$(printf '%s.%04d-of-%04d.sealed' "$1" "$v" "$2")
    case $BT_STORE in
      ftp://* | ftps://* | sftp://*) bt_curl "${BT_STORE%/}/$vol" >> "$BT_ARCHIVE" ;;
      *) cat "$dir/$vol" >> "$BT_ARCHIVE" ;;
    esac || bt_fail "cannot fetch $vol from $BT_STORE"
    v=$((v + 1))
  done
}

# bt_open_to CMD...: verifies and opens BT_ARCHIVE into the command's standard input.
bt_open_to() {
  rm -f "$BT_WORK/open.rc"
  set -- "$@"
  { sh "$BT_WORK/bt-open.sh" -v "$BT_WORK/host.pub" -k "$BT_WORK/admin.key" "$BT_ARCHIVE" || echo $? > "$BT_WORK/open.rc"; } | "$@"
  rc=$?
  [ ! -f "$BT_WORK/open.rc" ] && return "$rc"
  return 4
}
bt_tar_x() {
  if tar --version 2>/dev/null | grep -q GNU; then
    tar -C "$BT_TARGET" -xpf - --numeric-owner --xattrs --xattrs-include='*' --warning=no-unknown-keyword
  else
    tar -C "$BT_TARGET" -xpf -
  fi
}

bt_restore_tar() {
  command -v openssl > /dev/null 2>&1 || bt_fail_hint 'neither node nor openssl is on this rescue system' 'install openssl (or node and backtory)'
  if [ -n "$BT_KEYPASS" ]; then
    openssl pkey -in "$BT_KEY" -passin "file:$BT_KEYPASS" -out "$BT_WORK/admin.key" 2>"$BT_WORK/out" ||
      bt_fail "cannot open the key \"$BT_KEY\" with the passphrase in \"$BT_KEYPASS\""
  else
    cp "$BT_KEY" "$BT_WORK/admin.key"
  fi
  chmod 600 "$BT_WORK/admin.key"
  bt_open_sh > "$BT_WORK/bt-open.sh"
  bt_pick > "$BT_WORK/chosen"
  { read -r fname fvol; read -r dname dvol || dname=''; } < "$BT_WORK/chosen"
  done=$(bt_state)/restored
  if ! grep -qx "$fname" "$done" 2>/dev/null; then
    bt_fetch "$fname" "$fvol"
    bt_log "# the full $fname: verified and opened with openssl, extracted with tar"
    bt_run bt_open_to bt_tar_x
    echo "$fname" >> "$done"
  fi
  [ -n "$dname" ] || return 0
  grep -qx "$dname" "$done" 2>/dev/null && return 0
  if [ -x "$BT_TARGET/usr/local/bin/bt-restore" ]; then
    set -- chroot "$BT_TARGET" /usr/local/bin/bt-restore --numeric-owner /
  elif [ -f "$BT_TARGET/opt/backtory/bin/bt-restore.js" ] && chroot "$BT_TARGET" sh -c 'command -v node' > /dev/null 2>&1; then
    set -- chroot "$BT_TARGET" node /opt/backtory/bin/bt-restore.js --numeric-owner /
  else
    bt_fail_hint "the full $fname is restored into $BT_TARGET, the differential $dname is not: applying it needs backtory, and there is no node on this rescue system and no backtory in the restored system (looked for $BT_TARGET/usr/local/bin/bt-restore, and $BT_TARGET/opt/backtory/bin/bt-restore.js with node)" \
      "install node and backtory here (or give --backtory DIR), or restore the full's day only with --at"
  fi
  bt_binds
  # bt-restore applies a differential only onto a tree that its own marker says
  # holds the full, and tar writes no marker: the full goes through the restored
  # system's bt-restore once more (each file replaced by the same), which records it.
  if ! grep -qx "$fname recorded" "$done" 2>/dev/null; then
    bt_fetch "$fname" "$fvol"
    bt_log "# the full $fname again, through the restored system's bt-restore, which records it for the differential"
    bt_run bt_open_to "$@"
    echo "$fname recorded" >> "$done"
  fi
  bt_fetch "$dname" "$dvol"
  bt_log "# the differential $dname: verified and opened with openssl, applied by the restored system's backtory"
  bt_run bt_open_to "$@"
  echo "$dname" >> "$done"
}

# --- the boot loader, in a chroot of the restored system
bt_binds() {
  for d in dev proc sys; do
    bt_mounted "$BT_TARGET/$d" || { mkdir -p "$BT_TARGET/$d"; bt_run mount --bind "/$d" "$BT_TARGET/$d"; }
  done
}
bt_boot_done() { [ "$BT_NO_BOOT" = 1 ] || [ -f "$(bt_state)/boot" ]; }
bt_boot_skip() {
  [ "$BT_NO_BOOT" = 1 ] || return 1
  bt_note 'skipped: --no-boot'
  return 0
}
# bt_boot_bios DISKREF...: GRUB into the first sectors of each disk.
bt_boot_bios() {
  bt_boot_skip && return 0
  bt_binds
  for d in "$@"; do bt_run chroot "$BT_TARGET" grub-install "@$d"; done
}
# bt_boot_efi ESPREF BOOTLOADER-ID: GRUB onto the ESP mounted at /boot/efi; entries by bt_efi_entry.
bt_boot_efi() {
  bt_boot_skip && return 0
  bt_binds
  bt_mounted "$BT_TARGET/sys/firmware/efi/efivars" || [ ! -d /sys/firmware/efi/efivars ] ||
    bt_run mount --bind /sys/firmware/efi/efivars "$BT_TARGET/sys/firmware/efi/efivars"
  bt_run chroot "$BT_TARGET" grub-install --target=x86_64-efi --efi-directory=/boot/efi --bootloader-id="$2"
}
# bt_efi_entry LABEL LOADER PARTREF: a firmware boot entry, unless one of that label is there.
bt_efi_entry() {
  [ "$BT_NO_BOOT" = 1 ] && return 0
  r=${3#part:}
  if [ "$BT_PLAN" = 0 ] && efibootmgr 2>/dev/null | grep -q "^Boot[0-9A-F]*\*\{0,1\} $1\$"; then return 0; fi
  bt_run efibootmgr -c -d "@disk:${r%:*}" -p "${r##*:}" -L "$1" -l "$2"
}
bt_boot_finish() {
  bt_boot_skip && return 0
  bt_run chroot "$BT_TARGET" update-initramfs -u -k all
  bt_run chroot "$BT_TARGET" update-grub
  [ "$BT_PLAN" = 1 ] || { mkdir -p "$(bt_state)"; date -u +%Y-%m-%dT%H:%M:%SZ > "$(bt_state)/boot"; }
}
