#!/usr/bin/env bash
# What telemetry costs: this tree's release binary twice, side by side — `off` with no OTLP endpoint set, `on`
# exporting traces, metrics and logs over OTLP/HTTP to a sink on loopback that answers 200 and discards
# (bench/otlp-sink.py) — deducts in alternating rounds at the same concurrency, in one run (bench/ab-lib.sh).
# Both sides serve /metrics. Extra `on` settings can be given in TELEMETRY_ENV (e.g. OTEL_TRACES_SAMPLER_ARG=0.1).
# Usage: bench/telemetry-ab.sh embedded|redis [rounds] [seconds] [connections]
#        (needs wrk and python3; redis mode also redis-server, redis-tools)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/ab-lib.sh
usage="usage: bench/telemetry-ab.sh embedded|redis [rounds] [seconds] [connections]"
mode="${1:?$usage}"
sink_port="${BENCH_SINK_PORT:-14318}"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; cat "$work/sink.log" 2>/dev/null; rm -rf "$work"' EXIT
bench/otlp-sink.py "$sink_port" >"$work/sink.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf -X POST "http://127.0.0.1:$sink_port/ready" >/dev/null && break; sleep 0.1; done
curl -sf -X POST "http://127.0.0.1:$sink_port/ready" >/dev/null || { echo "the OTLP sink did not start" >&2; exit 1; }
bin="$(release_stampede)"
bins=("$bin" "$bin")
names=(off on)
envs=("" "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$sink_port ${TELEMETRY_ENV:-}")
ab_run "$mode" "${2:-6}" "${3:-10}" "${4:-64}"
