#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for the `cluster` tests (tests/cluster/).
#
#   tests/cluster/slurm_local.sh start DIR   write DIR/slurm.conf, start munged, slurmctld and slurmd
#                                            (as root), wait until the node answers srun; prints
#                                            `export SLURM_CONF=DIR/slurm.conf`
#   tests/cluster/slurm_local.sh stop DIR    stop the daemons started for DIR (by their pid files)
#
# Needs Debian's slurm-wlm and munge (.ci/run installs them). Configuration as for a test
# cluster: proctrack/linuxproc, task/none, select/cons_tres, one node with this machine's CPUs
# and memory, no accounting (job states come from squeue; MinJobAge keeps finished jobs listed).
# Inside a job, Snakemake's jobstep executor calls srun with SLURM_* variables removed, so srun
# reads the default /etc/slurm/slurm.conf: `start` links it to DIR/slurm.conf (refusing when a
# real configuration is there) and `stop` removes that link again.
set -euo pipefail
cmd=${1:?start|stop}
dir=$(realpath -m "${2:?directory}")

SYSTEM_CONF=/etc/slurm/slurm.conf

stop() {
  if [ -L "$SYSTEM_CONF" ] && [ "$(readlink "$SYSTEM_CONF")" = "$dir/slurm.conf" ]; then rm -f "$SYSTEM_CONF"; fi
  for d in slurmd slurmctld munged; do
    if [ -f "$dir/$d.pid" ]; then
      pid=$(cat "$dir/$d.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$d.pid"
    fi
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
for exe in munged slurmctld slurmd srun; do
  command -v "$exe" >/dev/null || { echo "$exe not found: apt-get install -y slurm-wlm munge" >&2; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "the single-node test cluster runs its daemons as root" >&2; exit 3; }

mkdir -p "$dir"/{state,spool,munge}
chmod 700 "$dir/munge"
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
host=$(hostname -s)

# munge: its own key and socket in DIR, so a system munged is not touched
if [ ! -f "$dir/munge/munge.key" ]; then
  dd if=/dev/urandom bs=1 count=1024 of="$dir/munge/munge.key" status=none
  chmod 400 "$dir/munge/munge.key"
fi
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed"

cat > "$dir/slurm.conf" <<CONF
ClusterName=healthgeo-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
SlurmctldPort=16817
SlurmdPort=16818
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmdSpoolDir=$dir/spool
StateSaveLocation=$dir/state
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
if [ -e "$SYSTEM_CONF" ] || [ -L "$SYSTEM_CONF" ]; then
  if [ "$(readlink "$SYSTEM_CONF" 2>/dev/null)" != "$SLURM_CONF" ]; then
    echo "$SYSTEM_CONF exists: this machine has a SLURM configuration of its own; not starting a test cluster" >&2
    stop; exit 3
  fi
else
  mkdir -p "$(dirname "$SYSTEM_CONF")"
  ln -s "$SLURM_CONF" "$SYSTEM_CONF"
fi
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 120); do
  if timeout 20 srun -N1 -t 1 true 2>/dev/null; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "the single-node SLURM cluster did not answer srun within a minute; logs in $dir" >&2
tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
stop
exit 1
