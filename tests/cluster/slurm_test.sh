#!/usr/bin/env bash
# ctest Cluster.Slurm: sharded runs on a real one-node Slurm cluster (Slurm 22.05, Debian 12) that
# this script starts as root in WORK_DIR/slurm: its own slurm.conf, munge key and socket, ports
# picked for this run; every daemon is stopped and the state removed on exit, even on failure.
#   1. the cluster itself: a 3-task array and an afterok job after it, then scancel;
#   2. the demo as one `run` (the reference);
#   3. `plan --slurm --shards 4` run with bash: an sbatch array, then the merge job afterok;
#   4. the merged folder equals the single run (compare_runs.py);
#   5. shard 1 frozen (SIGSTOP, fault point) after its 2nd unit file, scancel'd, resubmitted: it
#      reuses the 2 files untouched and computes the rest; `merge` again equals the single run;
#   6. `merge` with one unit file missing fails, names it and writes nothing.
# Installs slurm-wlm and munge with apt when they are missing (scripts/setup.sh installs them too).
# A cluster that does not come up is a failure with the daemons' logs, never a skip.
# Usage: slurm_test.sh ENTROSCOPE SOURCE_DIR WORK_DIR
#   ENTROSCOPE_SLURM_TEST_CLUSTER_ONLY=1: step 1 only (checks the cluster part without entroscope).
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 ENTROSCOPE SOURCE_DIR WORK_DIR" >&2; exit 2; }
entroscope=$(realpath "$1") source=$(realpath "$2") work=$(realpath -m "$3")
spec=$source/examples/demo.yaml
compare=(/usr/bin/python3 "$source/tests/cluster/compare_runs.py")
shards=4 unit_items=50 kill_shard=1  # shard 1: the demo's two small models, 8 units
budget=${ENTROSCOPE_SLURM_TEST_BUDGET:-560}  # seconds for everything; ctest's TIMEOUT is 600
deadline=$((SECONDS + budget))
S=$work/slurm                                # the cluster: conf, state, spool, munge, logs
export PATH=$PATH:/usr/sbin:/sbin            # munged, slurmctld, slurmd

# Nothing from a surrounding Slurm job or a fault test may leak into this cluster's commands.
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(SLURM|SBATCH|SQUEUE|SALLOC|SRUN|SINFO|SCANCEL)_' || true)
unset ENTROSCOPE_FAULT_POINT ENTROSCOPE_FAULT_SIGNAL

extra_logs=()   # files whose tails a failure prints besides the daemons' logs
log_tail() {    # log_tail FILE_OR_FOLDER...: the last lines of each file that exists (in a folder: each)
  local f
  for f in "$@"; do
    if [ -d "$f" ]; then
      log_tail "$f"/*
      continue
    fi
    [ -f "$f" ] || continue
    echo "==== $f (last 40 lines)"
    tail -n 40 "$f" || true
  done
}
cluster_report() {
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
    echo "==== sinfo"; timeout 10 sinfo -N -o '%N %T %E' 2>&1 || true
    echo "==== squeue"; timeout 10 squeue -o '%i %j %T %r %M' 2>&1 || true
    echo "==== scontrol show job (id name state reason exit)"; timeout 10 scontrol -o show job 2>&1 |
      sed -E 's/^JobId=([0-9]+) .*JobName=([^ ]+) .*JobState=([A-Z_]+) Reason=([^ ]+) .* ExitCode=([0-9:]+).*/\1 \2 \3 \4 \5/' || true
  fi
  log_tail "${extra_logs[@]}"
  local d   # a daemon's log file, or what it printed when it did not get as far as its log
  for d in slurmctld slurmd munged; do
    if [ -s "$S/log/$d.log" ]; then log_tail "$S/log/$d.log"; else log_tail "$S/log/$d.out"; fi
  done
}
fail() {
  echo "FAIL: $*"
  cluster_report
  exit 1
}
left() { echo $((deadline - SECONDS)); }
bounded() {     # bounded SECONDS: SECONDS, or what is left of the budget if less (at least 1)
  local l; l=$(left)
  ((l < 1)) && l=1
  echo $(($1 < l ? $1 : l))
}

# --- the cluster -------------------------------------------------------------------------------
# The sockets (munge's, slurmstepd's in the spool) live in $S/run, or where that link points: a
# Unix socket path has at most 107 bytes, so a long $S gets a short folder in /tmp.
run_dir() { readlink -m "$S/run"; }
# This cluster's processes, also those a SIGKILLed run (ctest's timeout) left behind, as "KIND PID":
# "daemon" (slurmctld, slurmd with this slurm.conf; munged with this socket folder), "stepd"
# (slurmstepd with SLURM_CONF=this slurm.conf in its environment), "job" (SLURM_JOB_ID and this
# SLURM_CONF in its environment, or this entroscope writing under $work). Pure bash: no forks.
our_pids() {
  local d pid md cmd env
  md=$(run_dir)/munge
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" != $$ ] && [ "$pid" != "$BASHPID" ] || continue
    mapfile -d '' -t cmd 2>/dev/null <"$d/cmdline" || continue
    [ ${#cmd[@]} -gt 0 ] || continue   # kernel threads, zombies
    mapfile -d '' -t env 2>/dev/null <"$d/environ" || env=()
    case " ${cmd[*]} " in
      *slurmctld\ *" $S/slurm.conf "* | *slurmd\ *" $S/slurm.conf "* | *munged\ *"$md/"*) echo "daemon $pid"; continue ;;
      " $entroscope "*"$work/"*) echo "job $pid"; continue ;;
    esac
    [[ " ${env[*]} " == *" SLURM_CONF=$S/slurm.conf "* ]] || continue
    if [[ "${cmd[0]}" == slurmstepd* ]]; then
      echo "stepd $pid"
    elif [[ " ${env[*]} " == *" SLURM_JOB_ID="* ]]; then
      echo "job $pid"
    fi
  done
}
alive() {       # alive PID: it exists and is not a zombie
  local s
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1   # not $(<...): its failure ends bash 5.2
  s=${s##*) }
  [ "${s%% *}" != Z ]
}
stop_pids() {   # stop_pids SIGNAL PID...: signal them, wait up to 10 s, then SIGKILL what is left
  local sig=$1 p alive
  shift
  [ $# -gt 0 ] || return 0
  kill -CONT "$@" 2>/dev/null || true   # a stopped process would not act on SIGTERM
  kill -"$sig" "$@" 2>/dev/null || true
  for _ in $(seq 50); do
    alive=()
    for p in "$@"; do alive "$p" && alive+=("$p"); done
    [ ${#alive[@]} -eq 0 ] && return 0
    sleep 0.2
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
}
stop_ours() {   # job processes (a frozen shard), then slurmstepd, then slurmd, slurmctld, munged
  local kind pid jobs=() stepds=() daemons=()
  while read -r kind pid; do
    case $kind in job) jobs+=("$pid") ;; stepd) stepds+=("$pid") ;; daemon) daemons+=("$pid") ;; esac
  done < <(our_pids)
  [ $# -eq 0 ] || [ $((${#jobs[@]} + ${#stepds[@]} + ${#daemons[@]})) -eq 0 ] ||
    echo "slurm_test: $1: stopping ${#jobs[@]} job processes, ${#stepds[@]} slurmstepd, ${#daemons[@]} daemons"
  stop_pids KILL "${jobs[@]}"
  stop_pids KILL "${stepds[@]}"
  stop_pids TERM "${daemons[@]}"
}
cluster_stop() {
  local ids
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ] && [ -f "$S/slurmctld.pid" ]; then
    ids=$(timeout 10 squeue -h -o %A 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086
      timeout 10 scancel $ids 2>/dev/null || true
      for _ in $(seq 30); do
        [ -z "$(timeout 10 squeue -h -o %A 2>/dev/null || true)" ] && break
        sleep 0.5
      done
    fi
  fi
  stop_ours
  rm -rf "$S/state" "$(run_dir)" "$S/run"
  rm -f "$S"/*.pid
}

port_free() { ! ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }

cluster_start() {
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    [ "$(id -u)" -eq 0 ] || fail "slurm-wlm and munge are missing and this is not root (scripts/setup.sh installs them)"
    echo "slurm_test: installing slurm-wlm munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >"$work/apt.log" 2>&1 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$work/apt.log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >>"$work/apt.log" 2>&1; } ||
      { tail -n 30 "$work/apt.log"; fail "apt-get install slurm-wlm munge failed"; }
  fi
  [ "$(id -u)" -eq 0 ] || fail "the one-node Slurm cluster runs its daemons as root (SlurmUser=root); run this test as root"
  mkdir -p "$S"/{state,log}
  local r=$S/run
  if [ ${#r} -gt 50 ]; then
    r=$(mktemp -d /tmp/es-slurm.XXXXXX)
    ln -sfn "$r" "$S/run"
  fi
  mkdir -p "$r/spool"
  # munge: its own key and socket.
  local m=$r/munge
  mkdir -p "$m" && chmod 700 "$m"
  head -c 1024 /dev/urandom >"$m/munge.key"
  chmod 400 "$m/munge.key"
  munged -F --key-file="$m/munge.key" --socket="$m/munge.socket" --pid-file="$m/munged.pid" \
    --log-file="$S/log/munged.log" --seed-file="$m/seed" -f </dev/null >"$S/log/munged.out" 2>&1 &
  local ok=""
  for _ in $(seq 100); do
    if [ -S "$m/munge.socket" ] && munge -n -S "$m/munge.socket" 2>/dev/null | unmunge -S "$m/munge.socket" >/dev/null 2>&1; then
      ok=1
      break
    fi
    sleep 0.2
  done
  [ -n "$ok" ] || fail "munged did not answer on $m/munge.socket within 20 s"

  # Ports: two free neighbours from a range that depends on this process, so runs side by side
  # (another build folder) do not collide.
  local port=$((20000 + ($$ % 4000) * 2))
  for _ in $(seq 50); do
    port_free "$port" && port_free $((port + 1)) && break
    port=$((port + 2))
    ((port > 29990)) && port=20000
  done
  local host mem
  host=$(hostname -s)
  mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)
  mem=${mem:-4000}
  ((mem > 4000)) && mem=4000
  cat >"$S/slurm.conf" <<EOF
ClusterName=estest
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
AuthInfo=socket=$m/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$S/state
SlurmdSpoolDir=$r/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
JobAcctGatherType=jobacct_gather/none
DependencyParameters=kill_invalid_depend
MinJobAge=600
KillWait=5
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$S/slurm.conf
  slurmctld -D -c -f "$SLURM_CONF" </dev/null >"$S/log/slurmctld.out" 2>&1 &
  slurmd -D -N "$host" -f "$SLURM_CONF" </dev/null >"$S/log/slurmd.out" 2>&1 &
  local state=""
  for _ in $(seq 60); do
    state=$(timeout 5 sinfo -h -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
  done
  [ "$state" = idle ] || fail "the node is not idle 30 s after slurmctld and slurmd started (sinfo: '${state:-no answer}')"
  echo "slurm_test: cluster up (node $host, ports $port/$((port + 1)), $(nproc) CPUs, ${mem} MB, SLURM_CONF=$SLURM_CONF)"
}

# --- jobs --------------------------------------------------------------------------------------
queued() {      # queued ID...: squeue's lines ("id state reason") for these jobs and their tasks
  local q id
  q=$(timeout 10 squeue -h -o '%i %T %r' 2>&1) || { echo "squeue failed: $q" >&2; return 1; }
  for id in "$@"; do grep -E "^${id}([_ ]|\$)" <<<"$q" || true; done
}
wait_gone() {   # wait_gone SECONDS ID...: until none of the jobs is in squeue
  local end=$((SECONDS + $(bounded "$1"))) rest
  shift
  while :; do
    rest=$(queued "$@") || return 1
    [ -z "$rest" ] && return 0
    if grep -qE 'DependencyNeverSatisfied|launch failed|held' <<<"$rest"; then
      echo "a job can never run:"
      echo "$rest"
      return 1
    fi
    if ((SECONDS >= end)); then
      echo "still in squeue after the wait:"
      echo "$rest"
      return 1
    fi
    sleep 2
  done
}
job_states() {  # job_states ID: one line per job (array task) "ID STATE EXITCODE" from scontrol
  timeout 10 scontrol -o show job "$1" 2>/dev/null |
    sed -nE 's/^JobId=([0-9]+) .*JobState=([A-Z_]+) .* ExitCode=([0-9:]+).*/\1 \2 \3/p'
}
all_completed() { # all_completed ID: every task of the job ended COMPLETED with exit 0
  local s
  s=$(job_states "$1")
  [ -n "$s" ] && ! grep -qv ' COMPLETED 0:0$' <<<"$s"
}
unit_files() { { find "$1/units" -maxdepth 1 -name '*.json' -type f 2>/dev/null || true; } | sort; }
fingerprint() { # fingerprint FILE...: "sha256 mtime(ns) name" per file
  local f
  for f in "$@"; do echo "$(sha256sum <"$f" | cut -d' ' -f1) $(stat -c %.9Y "$f") $(basename "$f")"; done
}

# --- start -------------------------------------------------------------------------------------
stop_ours "left by a previous run"
[ -L "$S/run" ] && rm -rf "$(run_dir)"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
trap 'status=$?; cluster_stop; exit $status' EXIT
trap 'echo "FAIL: ${BASH_SOURCE[0]} line $LINENO: a command failed (status $?)"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

cluster_start

# 1. The cluster: an array, a job afterok on it, and scancel of a running job.
mkdir -p "$work/smoke"
arr=$(sbatch --parsable --job-name=smoke --array=1-3 --cpus-per-task=1 --mem=10M --chdir="$work/smoke" \
  --output="$work/smoke/task-%a.out" --wrap 'echo "task $SLURM_ARRAY_TASK_ID"; date +%s.%N >stamp-$SLURM_ARRAY_TASK_ID') ||
  fail "sbatch of the smoke array: $arr"
dep=$(sbatch --parsable --job-name=smoke-after --dependency=afterok:"$arr" --mem=10M --chdir="$work/smoke" \
  --output="$work/smoke/after.out" --wrap 'date +%s.%N >stamp-after; cat task-*.out') || fail "sbatch afterok: $dep"
extra_logs=("$work/smoke")
wait_gone 60 "$arr" "$dep" || fail "the smoke jobs did not finish"
all_completed "$arr" && all_completed "$dep" || fail "the smoke jobs did not all complete: $(job_states "$arr"; job_states "$dep")"
[ "$(grep -c '^task [123]$' "$work/smoke/after.out")" -eq 3 ] || fail "the afterok job did not see the 3 tasks' output"
last=$(cat "$work"/smoke/stamp-[123] | sort -n | tail -n1)
[ "$(printf '%s\n' "$last" "$(cat "$work/smoke/stamp-after")" | sort -n | tail -n1)" = "$(cat "$work/smoke/stamp-after")" ] ||
  fail "the afterok job ran before the array finished"
long=$(sbatch --parsable --job-name=smoke-cancel --mem=10M --output="$work/smoke/cancel.out" --wrap 'sleep 300') ||
  fail "sbatch: $long"
for _ in $(seq 60); do [ "$(queued "$long" | awk '{print $2}')" = RUNNING ] && break; sleep 0.5; done
[ "$(queued "$long" | awk '{print $2}')" = RUNNING ] || fail "the sleep job is not RUNNING after 30 s"
scancel "$long"
wait_gone 30 "$long" || fail "scancel: the job did not leave the queue"
extra_logs=()
echo "PASS cluster: array of 3, afterok job after it, scancel"
if [ "${ENTROSCOPE_SLURM_TEST_CLUSTER_ONLY:-}" = 1 ]; then
  exit 0
fi

# 2. The reference: the demo in one process.
"$entroscope" run --help | grep -q -- --shard || fail "$entroscope run has no --shard"
if ! timeout "$(bounded 400)" "$entroscope" run "$spec" --out "$work/single" --progress none >"$work/single.log" 2>&1; then
  extra_logs=("$work/single.log")
  fail "the single run failed"
fi
mapfile -t models < <(cd "$work/single" && ls items_*.csv | sed 's/^items_//; s/\.csv$//')
[ ${#models[@]} -gt 0 ] || fail "the single run wrote no items_*.csv"
echo "PASS single run: ${#models[@]} models (${models[*]})"

# 3. plan --slurm: the array of shards, then the merge afterok.
out=$work/sharded
"$entroscope" plan "$spec" --slurm --shards "$shards" --out "$out" --unit-items "$unit_items" --cpus 1 --mem 1G \
  --time 10 >"$work/submit.sh" 2>"$work/plan.err" || { cat "$work/plan.err"; fail "plan --slurm failed"; }
grep -q -- "--array=1-$shards" "$work/submit.sh" || { cat "$work/submit.sh"; fail "submit.sh has no --array=1-$shards"; }
grep -q -- "afterok" "$work/submit.sh" || { cat "$work/submit.sh"; fail "submit.sh has no afterok dependency"; }
bash "$work/submit.sh" >"$work/submit.log" 2>&1 || { cat "$work/submit.log"; fail "bash submit.sh failed"; }
read -r array_id merge_id < <(sed -n 's/.*submitted the shards as job \([0-9][0-9]*\) and the merge as job \([0-9][0-9]*\).*/\1 \2/p' \
  "$work/submit.log") || true
[ -n "${merge_id:-}" ] || { cat "$work/submit.log"; fail "submit.sh printed no 'submitted the shards as job A and the merge as job M'"; }
echo "slurm_test: shards are job $array_id, the merge is job $merge_id"
extra_logs=("$work/submit.sh" "$work/submit.log")
t0=$SECONDS
extra_logs+=("$out/logs")
wait_gone 300 "$array_id" "$merge_id" || fail "the sharded run did not finish"
all_completed "$array_id" || fail "not every shard completed: $(job_states "$array_id")"
all_completed "$merge_id" || fail "the merge job did not complete: $(job_states "$merge_id")"
[ -f "$out/scaling_summary.json" ] || fail "the merge job wrote no $out/scaling_summary.json"
echo "PASS plan --slurm: $shards shards and the merge in $((SECONDS - t0)) s"

# 4. The merged folder is the single run's.
"${compare[@]}" "$work/single" "$out" || fail "the sharded run differs from the single run"
echo "PASS sharded == single"

# 5. Shard $kill_shard frozen after its 2nd unit file, scancel'd, resubmitted.
line=$(cat "$out"/logs/* 2>/dev/null | grep -E "^shard $kill_shard/$shards: " | tail -n1 || true)
kill_units=$(sed -nE 's/^shard [0-9]+\/[0-9]+: ([0-9]+) units .*/\1/p' <<<"$line")
[ -n "$kill_units" ] || fail "no line 'shard $kill_shard/$shards: U units (...)' in $out/logs/"
[ "$kill_units" -gt 2 ] || fail "shard $kill_shard has $kill_units units: the kill test needs more than 2"
sdir=$out/shards/$kill_shard
rm -rf "$sdir"
mkdir -p "$work/kill"
shard_job() {   # shard_job NAME [ENV=VALUE...]: sbatch one `run --shard` of shard $kill_shard; prints the id
  local name=$1
  shift
  sbatch --parsable --job-name="$name" --cpus-per-task=1 --mem=1G --chdir="$work" --output="$work/kill/$name.out" <<EOF
#!/usr/bin/env bash
$* exec "$entroscope" run "$spec" --shard $kill_shard/$shards --unit-items $unit_items --out "$sdir" --progress none
EOF
}
frozen=$(shard_job frozen ENTROSCOPE_FAULT_POINT=shard-unit-written#2 ENTROSCOPE_FAULT_SIGNAL=STOP) || fail "sbatch: $frozen"
extra_logs=("$work/kill/frozen.out")
end=$((SECONDS + $(bounded 180)))
n=0 state=""
while :; do
  n=$(unit_files "$sdir" | wc -l)
  state=$(queued "$frozen" | awk '{print $2}')
  ((n > 2)) && fail "shard $kill_shard wrote $n unit files: the fault point shard-unit-written#2 did not stop it"
  [ "$n" -eq 2 ] && [ "$state" = RUNNING ] && break
  [ -z "$state" ] && fail "the frozen shard's job left the queue with $n unit files"
  ((SECONDS >= end)) && fail "after the wait: $n unit files, job state '${state}'"
  sleep 1
done
# The shard's process is stopped (state T), not just slow: a third file cannot come.
shard_proc_state() {
  local d cmd s
  for d in /proc/[0-9]*; do
    { mapfile -d '' -t cmd <"$d/cmdline"; } 2>/dev/null || continue
    [ "${cmd[0]:-}" = "$entroscope" ] && [[ " ${cmd[*]} " == *" $sdir "* ]] || continue
    { read -r s <"$d/stat"; } 2>/dev/null || continue
    s=${s##*) }
    echo "${s%% *}"
  done
}
for _ in $(seq 20); do [ "$(shard_proc_state)" = T ] && break; sleep 0.5; done
[ "$(shard_proc_state)" = T ] || fail "the frozen shard's process is not stopped (state '$(shard_proc_state)')"
[ "$(unit_files "$sdir" | wc -l)" -eq 2 ] || fail "the frozen shard kept writing unit files"
mapfile -t first_two < <(unit_files "$sdir")
before=$(fingerprint "${first_two[@]}")
scancel "$frozen"
wait_gone 60 "$frozen" || fail "the scancel'd shard did not leave the queue"
[ "$(unit_files "$sdir" | wc -l)" -eq 2 ] || fail "after scancel: $(unit_files "$sdir" | wc -l) unit files, not 2"
tmp=$(find "$sdir" -name '*.tmp*' 2>/dev/null || true)
[ -z "$tmp" ] || echo "slurm_test: note: the killed shard left temporary files (the rerun may remove them): $tmp"
echo "PASS shard $kill_shard frozen after 2 of $kill_units units and scancel'd"
rerun=$(shard_job rerun) || fail "sbatch: $rerun"
extra_logs=("$work/kill/frozen.out" "$work/kill/rerun.out")
wait_gone 180 "$rerun" || fail "the resubmitted shard did not finish"
all_completed "$rerun" || fail "the resubmitted shard failed: $(job_states "$rerun")"
line=$(grep -E "^shard $kill_shard/$shards: " "$work/kill/rerun.out" | tail -n1 || true)
read -r u r c f < <(sed -nE 's/^shard [0-9]+\/[0-9]+: ([0-9]+) units \(([0-9]+) reused, ([0-9]+) computed, ([0-9]+) failed\).*/\1 \2 \3 \4/p' \
  <<<"$line") || true
[ -n "${f:-}" ] || fail "the resubmitted shard printed no 'shard $kill_shard/$shards: U units (R reused, C computed, F failed)' line"
[ "$u" -eq "$kill_units" ] && [ "$r" -eq 2 ] && [ "$c" -eq $((kill_units - 2)) ] && [ "$f" -eq 0 ] ||
  fail "the resubmitted shard says '$line'; expected $kill_units units (2 reused, $((kill_units - 2)) computed, 0 failed)"
after=$(fingerprint "${first_two[@]}" 2>&1 || true)
[ "$before" = "$after" ] || fail "the 2 reused unit files changed: before
$before
after
$after"
[ "$(unit_files "$sdir" | wc -l)" -eq "$kill_units" ] || fail "shard $kill_shard has $(unit_files "$sdir" | wc -l) unit files, not $kill_units"
tmp=$(find "$sdir" -name '*.tmp*' 2>/dev/null || true)
[ -z "$tmp" ] || echo "slurm_test: note: temporary files after the rerun: $tmp"
echo "PASS resubmitted shard $kill_shard: $line"
merge_opts=()
"$entroscope" merge --help 2>/dev/null | grep -q -- --progress && merge_opts=(--progress none)
timeout "$(bounded 120)" "$entroscope" merge "$out"/shards/* --out "$work/merged2" "${merge_opts[@]}" >"$work/merge2.log" 2>&1 ||
  { extra_logs=("$work/merge2.log"); fail "merge after the resumed shard failed"; }
"${compare[@]}" "$work/single" "$work/merged2" || fail "the merge after the resumed shard differs from the single run"
echo "PASS merge after the kill == single"

# 6. A missing unit: merge refuses, names it, writes nothing.
mkdir -p "$work/missing"
cp -a "$out/shards" "$work/missing/shards"
victim=$(unit_files "$work/missing/shards/3" | head -n1)
[ -n "$victim" ] || fail "shard 3 has no unit files"
victim_name=$(basename "$victim" .json)   # MODEL.CHUNK.UNIT_ID (a model name may hold dots)
victim_id=${victim_name##*.}
victim_model=${victim_name%.*}
victim_model=${victim_model%.*}
rm "$victim"
status=0
timeout "$(bounded 120)" "$entroscope" merge "$work/missing/shards"/* --out "$work/missing/out" "${merge_opts[@]}" \
  >"$work/missing/merge.log" 2>&1 || status=$?
extra_logs=("$work/missing/merge.log")
[ "$status" -ne 0 ] || fail "merge with $victim_name missing exited 0"
[ "$status" -ne 124 ] || fail "merge with $victim_name missing ran past the wait"
grep -qi missing "$work/missing/merge.log" || fail "merge's message does not say a unit is missing"
grep -qF "$victim_id" "$work/missing/merge.log" && grep -qF "$victim_model" "$work/missing/merge.log" ||
  fail "merge's message does not name the missing unit $victim_name (model $victim_model, unit $victim_id)"
[ ! -e "$work/missing/out/scaling_summary.json" ] || fail "merge with a missing unit wrote scaling_summary.json"
written=$(find "$work/missing/out" -type f 2>/dev/null || true)
[ -z "$written" ] || fail "merge with a missing unit wrote files: $written"
echo "PASS merge with unit $victim_name missing: exit $status, nothing written: $(grep -i missing "$work/missing/merge.log" | head -n1)"
echo "PASS Cluster.Slurm in $SECONDS s"
