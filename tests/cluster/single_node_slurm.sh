#!/usr/bin/env bash
# Start a single-node SLURM on this machine (loopback only) for the real-SLURM tests:
#   tests/cluster/single_node_slurm.sh start   # installs slurm-wlm + munge if missing (apt, root)
#   SITH_SLURM_PARTITION=cpu pytest tests/test_sweep.py -k real_slurm
#   tests/cluster/single_node_slurm.sh stop
# One node named after this host with all its CPUs, one partition "cpu", no accounting
# database (so sacct cannot report cancelled jobs: sith's slurm executor copes). Tested
# with Debian 12's slurm-wlm 22.05. Exit 0 with "ready" once `srun hostname` works.
set -euo pipefail

action="${1:-start}"
conf_dir=/etc/slurm
host="$(hostname)"

stop() {
    pkill -x slurmd 2>/dev/null || true
    pkill -x slurmctld 2>/dev/null || true
}

if [ "$action" = "stop" ]; then
    stop
    echo "stopped"
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "slurm-wlm and munge are not installed and cannot be (needs root and apt-get)" >&2
        exit 2
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi

# munge: a key, its directories, the daemon
mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    su -s /bin/sh munge -c /usr/sbin/munged 2>/dev/null || /usr/sbin/munged --force
fi

cpus="$(nproc)"
memory_mb="$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))"
mkdir -p "$conf_dir" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > "$conf_dir/slurm.conf" <<CONF
ClusterName=sith
SlurmctldHost=$host
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
NodeName=$host CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

stop
slurmctld
slurmd
for _ in $(seq 1 30); do
    if timeout 20 srun -N1 hostname >/dev/null 2>&1; then
        echo "ready: partition cpu on $host ($cpus CPUs)"
        exit 0
    fi
    sleep 1
done
echo "slurm did not come up; see /var/log/slurm/" >&2
exit 1
