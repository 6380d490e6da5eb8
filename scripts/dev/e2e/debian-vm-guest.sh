#!/bin/bash
# Runs inside the Debian VM of debian-vm.sh as /e2e/run.sh (from the image's
# e2e-runner at every boot), with the payload disk on /e2e: vrngd's release
# tarball (vrngd-*.tar.gz), a node binary (node) and this script. It does what an
# administrator does, step by step, and prints one "E2E key=value..." line per
# measurement on the console for test/e2e/systemd-vm.test.ts and sysv-vm.test.ts
# to parse; the tests judge, this script only measures. The phase (which boot
# this is) comes from /e2e/phase-plan and /root/e2e-boot; the last phase powers off.
#   systemd: install (install.sh --enable, /var onto LUKS) -> (reboot) encrypted (boot
#            measurements, then the service checks) -> [next QEMU run, crng ready] ready
#   sysv:    sysv
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export SYSTEMD_PAGER= SYSTEMD_COLORS=0
say() { echo "E2E $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
prop() { timeout 60 systemctl show -p "$2" --value "$1"; }
# every systemctl call is bounded: a hang shows as a failed step, never as a silent guest
systemctl() { timeout 150 /bin/systemctl "$@"; }
step() { echo "E2E step $* t=$(cut -d' ' -f1 /proc/uptime)"; }
mono() { systemctl show -p "$2" --value "$1"; } # microseconds since boot, 0 if never
boot_n=$(( $(cat /root/e2e-boot 2>/dev/null || echo 0) + 1 ))
echo "$boot_n" > /root/e2e-boot
phase=$(sed -n "${boot_n}p" /e2e/phase-plan)
# a phase named on the kernel command line wins (a later QEMU run of the same guest)
for a in $(cat /proc/cmdline); do case "$a" in e2e.phase=*) phase=${a#e2e.phase=} ;; esac; done
say "boot n=$boot_n phase=$phase pid1=$(cat /proc/1/comm) kernel=$(uname -r) cmdline=$(tr ' ' , < /proc/cmdline)"

install_vrngd() { # the way an administrator would: the release tarball's install.sh
  rm -rf /root/vrngd-src && mkdir -p /root/vrngd-src
  tar -xzf /e2e/vrngd-*.tar.gz -C /root/vrngd-src
  local t0 out rc
  t0=$(now_ms)
  out=$(bash /root/vrngd-src/vrngd-*/scripts/install.sh --runtime /e2e/node "$@" 2>&1); rc=$?
  echo "$out" | sed 's/^/install.sh: /'
  say "install rc=$rc ms=$(( $(now_ms) - t0 )) args=$(echo "$*" | tr ' ' ,)"
}

entropy() { say "entropy avail=$(cat /proc/sys/kernel/random/entropy_avail) crng_ready=$(dd if=/dev/random of=/dev/null bs=1 count=1 iflag=nonblock status=none 2>/dev/null && echo yes || echo no)"; }

unit_times() { # U: how long the unit kept the boot, and how it ended
  local u=$1 ie ae ine sub res
  ie=$(mono "$u" InactiveExitTimestampMonotonic); ae=$(mono "$u" ActiveEnterTimestampMonotonic)
  ine=$(mono "$u" InactiveEnterTimestampMonotonic)
  sub=$(prop "$u" SubState); res=$(prop "$u" Result)
  local end=$ae
  [ "${ae:-0}" = 0 ] && end=$ine
  say "unit name=$u sub=$sub result=$res exec_status=$(prop "$u" ExecMainStatus) started_us=$ie ended_us=$end held_ms=$(( (${end:-0} - ${ie:-0}) / 1000 )) condition=$(prop "$u" ConditionResult)"
}

wait_active() { # U SECONDS
  local i
  for i in $(seq 1 "$2"); do
    [ "$(prop "$1" ActiveState)" = active ] && [ "$(prop "$1" SubState)" = running ] && return 0
    sleep 1
  done
  return 1
}

# order_cycle UNIT: an ordering cycle through UNIT in the ordering graph of the running
# manager (After= and Before= of every loaded unit and of UNIT, which is shown in the
# same call: an unreferenced unit loaded by a query alone is soon unloaded again), as
# "cycle unit=U n=0|1 path=A>B>...>A". This is the control for the boot journal's "no
# cycle": a boot with the old unit shape does not come up at all (the device job of
# /dev/mapper/var waits on a cryptsetup job that waits on the seed unit, which waits
# on /var; systemd only deletes a target's job and the boot hangs -- measured here), and
# systemd-analyze verify cannot stand in: its test-mode manager has no udev devices, so
# it reports no cycle for either shape (measured too).
order_cycle() {
  # shellcheck disable=SC2046
  # (list-units marks failed units with a leading "●"; "--": -.mount is a unit, not options)
  systemctl show -p Id -p After -p Before -- "$1" $(systemctl list-units --all --plain --no-legend --full | awk '{ print ($1 == "●" ? $2 : $1) }') 2>/tmp/order.err |
    python3 -c '
import sys
start = sys.argv[1]; graph = {}; unit = None
for l in sys.stdin.read().splitlines():
    if l.startswith("Id="): unit = l[3:]
    elif l.startswith("After=") and unit: graph.setdefault(unit, []).extend(l[6:].split())
    elif l.startswith("Before=") and unit:
        for v in l[7:].split(): graph.setdefault(v, []).append(unit)
path, seen = [], set()
def dfs(u):
    path.append(u)
    for v in graph.get(u, []):
        if v == start: return True
        if v not in seen:
            seen.add(v)
            if dfs(v): return True
    path.pop(); return False
found = dfs(start)
print("E2E cycle unit=%s n=%d units=%d path=%s" % (start, found, len(graph), ">".join(path + [start]) if found else "-"))
' "$1"
  head -3 /tmp/order.err | sed 's/^/order-cycle stderr: /'
}

verify_cycles() { # LABEL UNITS...: ordering cycles that systemd-analyze verify finds
  local label=$1 out n; shift
  out=$(systemd-analyze verify "$@" 2>&1)
  n=$(echo "$out" | grep -ci 'ordering cycle' || true)
  echo "$out" | grep -i 'cycle' | head -5 | sed "s/^/verify $label: /"
  say "verify label=$label cycles=$n"
}

# --- systemd: first boot ---------------------------------------------------------
phase_install() {
  entropy
  say "rngd before enabled=$(systemctl is-enabled rngd.service 2>/dev/null) active=$(systemctl is-active rngd.service)"
  install_vrngd --enable
  wait_active vrngd.service 120
  say "rngd after enabled=$(systemctl is-enabled rngd.service 2>/dev/null) active=$(systemctl is-active rngd.service)"
  say "enabled vrngd=$(systemctl is-enabled vrngd.service) seed=$(systemctl is-enabled vrngd-seed.service) seedfile=$(systemctl is-enabled vrngd-seed-file.service)"
  # encrypted /var on the spare disk, for the next boot
  head -c 32 /dev/urandom > /etc/var.key; chmod 600 /etc/var.key
  cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file /etc/var.key /dev/vdc &&
    cryptsetup open --key-file /etc/var.key /dev/vdc var && mkfs.ext4 -q /dev/mapper/var &&
    mkdir -p /mnt/newvar && mount /dev/mapper/var /mnt/newvar && cp -a /var/. /mnt/newvar/ && umount /mnt/newvar &&
    cryptsetup close var
  say "cryptvar rc=$?"
  echo 'var /dev/vdc /etc/var.key luks' > /etc/crypttab
  echo '/dev/mapper/var /var ext4 defaults 0 2' >> /etc/fstab
  say "phase-done install"
  systemctl reboot
}

cloud_init_seed() { # LABEL: cloud-init single --name seed_random with the shipped cloud-config
  cp /root/vrngd-src/vrngd-*/scripts/cloud-init/vrngd-seed.cloud-config /etc/cloud/cloud.cfg.d/99-vrngd.cfg 2>/dev/null ||
    cp /e2e/vrngd-seed.cloud-config /etc/cloud/cloud.cfg.d/99-vrngd.cfg
  local out rc t0; t0=$(now_ms)
  : > /var/log/cloud-init.log
  out=$(cloud-init single --name seed_random --frequency always 2>&1); rc=$?
  echo "$out" | tail -5 | sed "s/^/cloud-init $1: /"
  grep -E 'seed_random|vrngd seed|vrngd-seed|ProcessExecutionError' /var/log/cloud-init.log 2>/dev/null | tail -4 | sed "s/^/cloud-init.log $1: /"
  say "cloudinit label=$1 rc=$rc failed=$(echo "$out" | grep -ci 'fail') raised=$(grep -c 'ProcessExecutionError' /var/log/cloud-init.log 2>/dev/null) seedline=$(echo "$out" | grep -c 'vrngd seed: ') read=$(echo "$out" | sed -n 's/.*vrngd seed: [a-z-]*: read \([0-9]*\) bytes.*/\1/p' | head -n1) ms=$(( $(now_ms) - t0 ))"
  : > /var/log/cloud-init.log
}

# --- systemd: the service checks (second boot, after its boot measurements) ---------
service_tests() {
  local p1 p2 t0 ms i n1 case args since
  # rngd started by hand stops vrngd (the drop-in), and vrngd started again stops rngd.
  # rngd 5 exits at once in this VM ("read error", "No entropy sources working"), so
  # for this check its ExecStart is a sleep: what is tested is the units' Conflicts=.
  mkdir -p /run/systemd/system/rngd.service.d
  printf '[Service]\nExecStart=\nExecStart=/bin/sleep infinity\n' > /run/systemd/system/rngd.service.d/e2e-sleep.conf
  systemctl daemon-reload
  systemctl start rngd.service; sleep 1
  say "conflict rngd_start: rngd=$(systemctl is-active rngd.service) vrngd=$(systemctl is-active vrngd.service) rngd_result=$(prop rngd.service Result)"
  journalctl -u rngd.service -b --no-pager -o cat | tail -5 | sed 's/^/rngd-journal: /'
  systemctl start vrngd.service; wait_active vrngd.service 120
  say "conflict vrngd_start: rngd=$(systemctl is-active rngd.service) vrngd=$(systemctl is-active vrngd.service)"
  rm -f /run/systemd/system/rngd.service.d/e2e-sleep.conf; systemctl daemon-reload

  step "reload-keeps"
  # reload keeps the PID
  local p1 p2 t0 ms
  p1=$(prop vrngd.service MainPID); systemctl reload vrngd.service; sleep 2; p2=$(prop vrngd.service MainPID)
  say "reload rc=$? pid_before=$p1 pid_after=$p2 active=$(systemctl is-active vrngd.service)"
  # stop: wall time of systemctl stop
  t0=$(now_ms); systemctl stop vrngd.service; ms=$(( $(now_ms) - t0 ))
  say "stop ms=$ms state=$(systemctl is-active vrngd.service) result=$(prop vrngd.service Result)"
  # the floor under TCG: systemctl stop of a unit with vrngd.service's sandbox (private
  # /tmp and mounts, runtime directory, device policy...) whose process dies at once
  # on SIGTERM; and of a bare transient unit
  sed -e 's|^ExecStart=.*|ExecStart=/bin/sleep infinity|' -e 's|^Type=notify|Type=simple|' \
    -e '/^WatchdogSec=/d' -e '/^ExecReload=/d' -e '/^Conflicts=/d' /usr/lib/systemd/system/vrngd.service > /run/systemd/system/e2e-floor.service
  systemctl daemon-reload; systemctl start e2e-floor.service; sleep 1
  t0=$(now_ms); systemctl stop e2e-floor.service; ms=$(( $(now_ms) - t0 ))
  systemd-run -q --unit=e2e-bare /bin/sleep infinity; sleep 1
  t0=$(now_ms); systemctl stop e2e-bare.service
  say "stopfloor ms=$ms bare_ms=$(( $(now_ms) - t0 ))"
  rm -f /run/systemd/system/e2e-floor.service; systemctl daemon-reload
  t0=$(now_ms); systemctl start vrngd.service; wait_active vrngd.service 120
  say "start ms=$(( $(now_ms) - t0 )) state=$(systemctl is-active vrngd.service)"

  step "watchdog-a"
  # watchdog: a SIGSTOPped daemon is killed and restarted (WatchdogSec shortened for the test)
  mkdir -p /run/systemd/system/vrngd.service.d
  printf '[Service]\nWatchdogSec=15s\n' > /run/systemd/system/vrngd.service.d/e2e-watchdog.conf
  systemctl daemon-reload; systemctl restart vrngd.service; wait_active vrngd.service 120
  p1=$(prop vrngd.service MainPID); local n1; n1=$(prop vrngd.service NRestarts)
  kill -STOP "$p1"; t0=$(now_ms)
  local i p2=$p1
  for i in $(seq 1 150); do
    sleep 1
    p2=$(prop vrngd.service MainPID)
    [ "$p2" != "$p1" ] && [ "$p2" != 0 ] && [ "$(prop vrngd.service SubState)" = running ] && break
  done
  say "watchdog pid_before=$p1 pid_after=$p2 restarts_before=$n1 restarts_after=$(prop vrngd.service NRestarts) s=$(( ($(now_ms) - t0) / 1000 )) watchdog_logged=$(journalctl -u vrngd.service -b --no-pager | grep -c 'Watchdog timeout')"
  rm -f /run/systemd/system/vrngd.service.d/e2e-watchdog.conf; systemctl daemon-reload

  # permanent failures: no restart loop (64 usage, 69 no device, 77 no permission)
  local case args
  for case in 64:--no-such-option 69:"-r /dev/no-such-hwrng" 77:user; do
    # 77: as nobody on a readable source, RNDADDENTROPY is refused (EPERM)
    args=${case#*:}
    step "noloop ${case%%:*}"
    systemctl stop vrngd.service; systemctl reset-failed vrngd.service 2>/dev/null
    cp /etc/sysconfig/vrngd /root/sysconfig.save
    # RestartSec=1s for the test: a loop would show within the 4 s wait below
    printf '[Service]\nRestartSec=1s\n' > /run/systemd/system/vrngd.service.d/e2e-restartsec.conf
    if [ "$args" = user ]; then
      printf '[Service]\nUser=nobody\n' > /run/systemd/system/vrngd.service.d/e2e-user.conf
      echo 'VRNGD_ARGS="-r /dev/urandom"' >> /etc/sysconfig/vrngd
    else
      echo "VRNGD_ARGS=\"$args\"" >> /etc/sysconfig/vrngd
    fi
    systemctl daemon-reload
    local since; since=$(date '+%Y-%m-%d %H:%M:%S')
    systemctl start --no-block vrngd.service 2>/dev/null
    for i in $(seq 1 60); do [ "$(prop vrngd.service ActiveState)" = failed ] && break; sleep 1; done
    sleep 4 # RestartSec=1s: a loop would have restarted by now
    say "noloop want=${case%%:*} state=$(prop vrngd.service ActiveState) exit=$(prop vrngd.service ExecMainStatus) restarts=$(prop vrngd.service NRestarts)"
    journalctl -u vrngd.service -p err --since "$since" --no-pager -o cat | sed "s/^/journal-err ${case%%:*}: /"
    say "errlines want=${case%%:*} vrngd=$(journalctl -u vrngd.service -p err --since "$since" --no-pager -o cat | grep -c '^vrngd: ')"
    cp /root/sysconfig.save /etc/sysconfig/vrngd
    rm -f /run/systemd/system/vrngd.service.d/e2e-user.conf /run/systemd/system/vrngd.service.d/e2e-restartsec.conf; systemctl daemon-reload
  done
  systemctl reset-failed vrngd.service 2>/dev/null

  step "VRNGD_ARGS-with"
  # VRNGD_ARGS with blanks and shell metacharacters reaches vrngd as written
  echo "VRNGD_ARGS=\"--log-file '/run/vrngd/a b*.log' --state-file '/run/vrngd/s;\\\$x&.json'\"" >> /etc/sysconfig/vrngd
  systemctl start vrngd.service; wait_active vrngd.service 120
  sleep 3
  say "args state=$(systemctl is-active vrngd.service) logfile=$(ls /run/vrngd/ | grep -c '^a b\*\.log$') statefile=$(ls /run/vrngd/ | grep -c '^s;\$x&\.json$') argv=$(tr '\0' ' ' < /proc/"$(prop vrngd.service MainPID)"/cmdline | tr ' ' ,)"
  cp /root/sysconfig.save /etc/sysconfig/vrngd

  step "upgrade-installing"
  # upgrade: installing again over the running daemon restarts it
  p1=$(prop vrngd.service MainPID)
  install_vrngd
  wait_active vrngd.service 120
  say "upgrade pid_before=$p1 pid_after=$(prop vrngd.service MainPID) state=$(systemctl is-active vrngd.service)"

  step "cloud-init's-seed_random"
  # cloud-init's seed_random module, for real, with the shipped config; device present
  # and the daemon running, as on a real boot (both read /dev/hwrng: the hw_random
  # core serves one reader at a time, chunk by chunk)
  cloud_init_seed present

  step "encrypted-/var"
}

# --- systemd: second boot, encrypted /var, the kernel's own crediting off ----------
phase_encrypted() {
  entropy
  say "varmount source=$(findmnt -n -o SOURCE /var) state=$(systemctl is-active var.mount)"
  say "bootcycles n=$(journalctl -b --no-pager | grep -ci 'ordering cycle')"
  journalctl -b --no-pager | grep -i 'cycle' | head -5 | sed 's/^/boot-journal: /'
  # now that the fstab and crypttab generators have made var.mount and
  # systemd-cryptsetup@var.service (/run/systemd/generator), verify sees them too
  verify_cycles encrypted-new vrngd-seed.service vrngd-seed-file.service vrngd.service
  # control: the seed unit as it was (RequiresMountsFor=/var/lib/vrngd beside Before=cryptsetup-pre.target)
  mkdir -p /root/control && sed 's|^Wants=cryptsetup-pre.target|&\nRequiresMountsFor=/var/lib/vrngd|' /usr/lib/systemd/system/vrngd-seed.service > /root/control/vrngd-seed.service
  verify_cycles encrypted-control /root/control/vrngd-seed.service # a report only: see order_cycle
  # the graph check: the real unit, and the old shape loaded beside it under another name (never started)
  order_cycle vrngd-seed.service
  cp /root/control/vrngd-seed.service /run/systemd/system/vrngd-seed-control.service && systemctl daemon-reload
  order_cycle vrngd-seed-control.service
  rm -f /run/systemd/system/vrngd-seed-control.service && systemctl daemon-reload
  unit_times vrngd-seed.service
  journalctl -u vrngd-seed.service -b --no-pager -o cat | grep 'vrngd seed: ' | sed 's/^/seedline: /'
  say "device rng_current=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null) quality=$(cat /sys/module/rng_core/parameters/default_quality 2>/dev/null)"
  journalctl -b -k --no-pager -o short-monotonic | grep -iE 'random: crng|virtio_rng|hwrng' | head -5 | sed 's/^/kernel: /'
  wait_active vrngd.service 120
  for i in $(seq 1 60); do [ "$(prop vrngd-seed-file.service ActiveState)" != activating ] && break; sleep 1; done
  unit_times vrngd-seed-file.service
  say "seedfile exists=$([ -s /var/lib/vrngd/seed ] && echo yes || echo no)"
  unit_times sysinit.target
  systemd-analyze critical-chain sysinit.target 2>&1 | sed 's/^/critical-chain: /'
  service_tests
  say "phase-done encrypted"
  systemctl poweroff
}

# --- systemd: third boot (new QEMU run), crng ready from the start -----------------
phase_ready() {
  entropy
  unit_times vrngd-seed.service
  wait_active vrngd.service 120
  for i in $(seq 1 60); do [ "$(prop vrngd-seed-file.service ActiveState)" != activating ] && break; sleep 1; done
  unit_times vrngd-seed-file.service
  unit_times sysinit.target
  systemd-analyze critical-chain sysinit.target 2>&1 | sed 's/^/critical-chain: /'
  # cloud-init without a device: virtio_rng unloaded, /dev/hwrng answers ENODEV
  systemctl stop vrngd.service
  rmmod virtio_rng 2>/dev/null
  say "device rng_current=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
  cloud_init_seed absent
  # erase: nothing enabled, nothing dangling
  install_vrngd --uninstall --purge
  say "erase units=$(ls /usr/lib/systemd/system | grep -c vrngd) links=$(find /etc/systemd /etc/rc?.d -name '*vrngd*' 2>/dev/null | wc -l) dangling=$(find -L /etc/systemd /usr/lib/systemd -type l 2>/dev/null | wc -l) enabled=$(systemctl list-unit-files 'vrngd*' --no-legend 2>/dev/null | grep -c enabled) sbin=$([ -e /usr/sbin/vrngd ] && echo yes || echo no)"
  find -L /etc/systemd /usr/lib/systemd -type l 2>/dev/null | head -5 | sed 's/^/dangling: /'
  cloud_init_seed uninstalled
  say "phase-done ready"
  systemctl poweroff
}

# --- SysV: sysvinit-core as PID 1 --------------------------------------------------
phase_sysv() {
  local s=/etc/init.d/vrngd p1 p2 rc t0 out
  entropy
  # rngd 5 fails on /dev/hwrng in this VM ("No entropy sources working"): run it on
  # /dev/urandom so that there is a running rngd for the init script to stop
  echo 'DAEMON_ARGS="-r /dev/urandom"' > /etc/default/rngd
  /etc/init.d/rngd start >/dev/null 2>&1; sleep 1
  say "rngd before running=$(/etc/init.d/rngd status >/dev/null 2>&1 && echo yes || echo no)"
  install_vrngd
  # start with a VRNGD_ARGS that holds blanks and shell metacharacters; rngd is running
  echo "VRNGD_ARGS=\"--log-file '/run/vrngd/a b*.log' --state-file '/run/vrngd/s;\\\$x&.json'\"" >> /etc/sysconfig/vrngd
  mkdir -p /run/vrngd
  t0=$(now_ms); out=$($s start 2>&1); rc=$?
  echo "$out" | sed 's/^/sysv start: /'
  say "sysv op=start rc=$rc ms=$(( $(now_ms) - t0 )) rngd_running=$(/etc/init.d/rngd status >/dev/null 2>&1 && echo yes || echo no)"
  sleep 3
  p1=$(head -n1 /var/run/vrngd.pid 2>/dev/null)
  say "args logfile=$(ls /run/vrngd/ | grep -c '^a b\*\.log$') statefile=$(ls /run/vrngd/ | grep -c '^s;\$x&\.json$') argv=$(tr '\0' ' ' < /proc/"$p1"/cmdline 2>/dev/null | tr ' ' ,)"
  t0=$(now_ms); out=$($s status 2>&1); rc=$?; say "sysv op=status rc=$rc ms=$(( $(now_ms) - t0 )) out=$(echo "$out" | tr '\n ' '|_')"
  out=$($s start 2>&1); rc=$?; say "sysv op=start-again rc=$rc pid=$(head -n1 /var/run/vrngd.pid) first_pid=$p1 out=$(echo "$out" | tr '\n ' '|_')"
  $s reload >/dev/null 2>&1; rc=$?; sleep 2; p2=$(head -n1 /var/run/vrngd.pid 2>/dev/null)
  say "sysv op=reload rc=$rc pid_before=$p1 pid_after=$p2 alive=$(kill -0 "$p2" 2>/dev/null && echo yes || echo no)"
  t0=$(now_ms); $s stop >/dev/null 2>&1; rc=$?
  say "sysv op=stop rc=$rc ms=$(( $(now_ms) - t0 )) alive=$(kill -0 "$p2" 2>/dev/null && echo yes || echo no) pidfile=$([ -e /var/run/vrngd.pid ] && echo yes || echo no)"
  out=$($s status 2>&1); rc=$?; say "sysv op=status-stopped rc=$rc"
  t0=$(now_ms); $s start >/dev/null 2>&1; rc=$?
  say "sysv op=second-start rc=$rc ms=$(( $(now_ms) - t0 )) pid=$(head -n1 /var/run/vrngd.pid 2>/dev/null)"
  # where a stop's time goes: the daemon's own exit (SIGTERM to gone, polled with the
  # shell's kill builtin, no fork) against the script's whole stop above
  p2=$(head -n1 /var/run/vrngd.pid 2>/dev/null); sleep 2
  t0=$(now_ms); kill -TERM "$p2"; n=0; while kill -0 "$p2" 2>/dev/null; do n=$((n + 1)); done
  say "sysv op=exit ms=$(( $(now_ms) - t0 )) polls=$n"
  $s stop >/dev/null 2>&1
  # a permanent failure: one line, its code, no daemon left behind
  cp /etc/sysconfig/vrngd /root/sysconfig.save
  echo 'VRNGD_ARGS="-r /dev/no-such-hwrng"' >> /etc/sysconfig/vrngd
  out=$($s start 2>&1); rc=$?
  echo "$out" | sed 's/^/sysv bad: /'
  say "sysv op=start-nodevice rc=$rc running=$($s status >/dev/null 2>&1 && echo yes || echo no)"
  cp /root/sysconfig.save /etc/sysconfig/vrngd
  echo "VRNGD_ARGS=\"--reseed '*/5\"" >> /etc/sysconfig/vrngd
  out=$($s start 2>&1); rc=$?
  echo "$out" | sed 's/^/sysv badquote: /'
  say "sysv op=start-openquote rc=$rc running=$($s status >/dev/null 2>&1 && echo yes || echo no)"
  cp /root/sysconfig.save /etc/sysconfig/vrngd
  /etc/init.d/rngd stop >/dev/null 2>&1
  cloud_init_seed sysv
  install_vrngd --uninstall --purge
  say "erase links=$(find /etc/rc?.d -name '*vrngd*' 2>/dev/null | wc -l) initscript=$([ -e /etc/init.d/vrngd ] && echo yes || echo no)"
  say "phase-done sysv"
  poweroff
}

case "$phase" in
  install) phase_install ;;
  encrypted) phase_encrypted ;;
  ready) phase_ready ;;
  sysv) phase_sysv ;;
  *) say "phase-done none (boot $boot_n has no phase)"; poweroff -f ;;
esac
