#!/bin/bash
# Every benchmark behind docs/performance.md's "idle machine" section, one after
# another, each into its own file in OUT (default: a new folder under /tmp), with
# the load average before and after each in OUT/log. Run it on an idle machine:
#
#     benchmarks/run_all.sh [OUT]    # about 12 minutes on the 2-core machine
#
# PostgreSQL is taken from POSTGRES (default: the local server, trust auth).
set -u
cd "$(dirname "$0")/.."
OUT=${1:-$(mktemp -d /tmp/mixer-bench-XXXX)}
PG=${POSTGRES:-postgresql://postgres@127.0.0.1:5432/postgres}
PY=.venv/bin/python
mkdir -p "$OUT"
m() {
    name=$1
    shift
    echo "== $name $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/log"
    "$@" >"$OUT/$name.txt" 2>&1 || echo "   FAILED ($?)" >>"$OUT/log"
    echo "   done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/log"
}
m checkin1 $PY benchmarks/checkin.py --levels 20,50,200 --requests 2000 --postgres "$PG"
m badges1 $PY benchmarks/badges.py --sizes 1000 --mode both
m rotations_gap $PY benchmarks/rotations.py 3000 6000 10000 --level-gap 1
m rotations_rich $PY benchmarks/rotations.py 1000 --tags rich --bound
m rotations_few $PY benchmarks/rotations.py 50 200 1000 3000
m pages $PY benchmarks/pages.py
m bigorg_sqlite $PY benchmarks/bigorg.py --pairs 500,5000
m bigorg_pg $PY benchmarks/bigorg.py --pairs 500,5000 --postgres "$PG"
m printouts $PY benchmarks/printouts.py
m insights_sqlite $PY benchmarks/insights.py
m insights_pg $PY benchmarks/insights.py --postgres "$PG"
for run in 2 3; do
    m checkin$run $PY benchmarks/checkin.py --levels 20,50,200 --requests 2000 --postgres "$PG"
    m badges$run $PY benchmarks/badges.py --sizes 1000 --mode job
done
echo "all done: $OUT" | tee -a "$OUT/log"
