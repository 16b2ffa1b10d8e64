#!/usr/bin/env bash
# Runs the libFuzzer targets in fuzz/ (cargo fuzz, nightly) for a bounded time each, one after
# the other on one core, and prints the executions and crashes of each.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 600; the targets default to all of them: csv npy idx image
# model_file serve_request lat_file parquet. Each run starts from the committed seeds
# (fuzz/seeds/<target>) and the working corpus it grows (fuzz/corpus/<target>, not committed).
# A crash, panic, timeout or out-of-memory stops that target's run; its input is saved under
# fuzz/artifacts/<target>/.
# Reproduce one with `cargo +nightly fuzz run <target> <file>`, fix it, and copy the input to
# fuzz/regressions/<target>/ so the regression tests of `cargo test --workspace` replay it.
# Inputs slower than 10 s are saved as slow-unit-* and counted apart (they do not stop a run).
#
# Environment: FUZZ_NICE (nice level, default 10), FUZZ_TIMEOUT (seconds one input may take,
# default 10), FUZZ_RSS_MB (memory limit, default 2048). Logs go to fuzz/logs/<target>.log and
# the summary table to fuzz/logs/summary.md (and standard output).
set -euo pipefail

ALL_TARGETS=(csv npy idx image model_file serve_request lat_file parquet)

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
seconds="${1:-600}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "fuzz.sh: SECONDS_PER_TARGET must be a positive integer, got '$seconds'" >&2
    exit 2
fi
shift || true
targets=("$@")
((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    if [[ ! " ${ALL_TARGETS[*]} " == *" $t "* ]]; then
        echo "fuzz.sh: unknown target '$t' (targets: ${ALL_TARGETS[*]})" >&2
        exit 2
    fi
done

max_len() {
    case "$1" in
        model_file) echo 16384 ;;
        image) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

dict_args() {
    case "$1" in
        model_file | serve_request) echo "-dict=dicts/json.dict" ;;
    esac
}

cd "$(dirname "$0")/../fuzz"
if ! cargo +nightly fuzz --help > /dev/null 2>&1; then
    echo "fuzz.sh: needs cargo-fuzz and a nightly toolchain:" >&2
    echo "  rustup toolchain install nightly && cargo install cargo-fuzz" >&2
    exit 2
fi
nice_level="${FUZZ_NICE:-10}"
mkdir -p logs
echo "building ${targets[*]}" >&2
for t in "${targets[@]}"; do
    nice -n "$nice_level" cargo +nightly fuzz build "$t" >&2
done

summary=logs/summary.md
{
    echo "| target | seconds | executions | exec/s | corpus | crashes | slow units | result |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
} > "$summary"
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="logs/$t.log"
    before=$(find "artifacts/$t" -type f ! -name 'slow-unit-*' | wc -l)
    slow_before=$(find "artifacts/$t" -type f -name 'slow-unit-*' | wc -l)
    start=$(date +%s)
    echo "fuzzing $t for ${seconds}s (log: fuzz/$log)" >&2
    status=0
    # shellcheck disable=SC2046
    nice -n "$nice_level" cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" \
        -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
        -print_final_stats=1 $(dict_args "$t") > "$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
    if [[ -z "$execs" ]]; then
        execs=$(grep -o '^Done [0-9]* runs' "$log" | tail -n 1 | grep -o '[0-9][0-9]*' || true)
    fi
    if [[ -z "$execs" ]]; then
        execs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#' || true)
    fi
    execs="${execs:-0}"
    rate=$((execs / (elapsed > 0 ? elapsed : 1)))
    corpus=$(find "corpus/$t" -type f | wc -l)
    crashes=$(($(find "artifacts/$t" -type f ! -name 'slow-unit-*' | wc -l) - before))
    slow=$(($(find "artifacts/$t" -type f -name 'slow-unit-*' | wc -l) - slow_before))
    if ((status == 0 && crashes == 0)); then
        result="clean"
    else
        failed=1
        found=$(find "artifacts/$t" -type f ! -name 'slow-unit-*' -newermt "@$start" \
            -printf '%f ' 2> /dev/null || true)
        result="FAILED (exit $status): ${found:-see fuzz/$log}"
    fi
    line="| $t | $elapsed | $execs | $rate | $corpus | $crashes | $slow | $result |"
    echo "$line" >> "$summary"
    echo "$line" >&2
done
echo
cat "$summary"
exit "$failed"
