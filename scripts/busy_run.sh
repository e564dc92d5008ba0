#!/usr/bin/env bash
# Run a command while spinning processes keep the CPU cores busy, to check that timing-
# sensitive tests hold on a loaded machine. Repeats the command (stopping at the first
# failure) and stops the spinners on exit.
#
#   scripts/busy_run.sh [-s SPINNERS] [-n TIMES] COMMAND...
#   scripts/busy_run.sh -s 2 -n 3 python -m pytest tests/demo/test_live_demo.py
set -euo pipefail

spinners=2
times=1
while getopts "s:n:" opt; do
    case $opt in
        s) spinners=$OPTARG ;;
        n) times=$OPTARG ;;
        *) echo "usage: $0 [-s SPINNERS] [-n TIMES] COMMAND..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
    echo "usage: $0 [-s SPINNERS] [-n TIMES] COMMAND..." >&2
    exit 2
fi

pids=()
stop_spinners() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}
trap stop_spinners EXIT
for _ in $(seq "$spinners"); do
    python3 -c 'while True: pass' &
    pids+=($!)
done

for run in $(seq "$times"); do
    echo "busy_run: run $run of $times with $spinners spinning processes: $*" >&2
    status=0
    "$@" || status=$?
    echo "busy_run: run $run exited with $status" >&2
    if [ "$status" -ne 0 ]; then
        exit "$status"
    fi
done
