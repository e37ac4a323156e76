#!/usr/bin/env bash
# demo.sh: build fleetform and fleetsim, start a simulated main cluster and a
# remote "west" on loopback, and run plan → apply → plan → status on
# examples/two-cluster. Stops the simulator on exit. It says what it does at
# each step: the first build compiles every dependency (about 1–2 minutes
# on 2 cores; seconds afterwards, from Go's build cache).
#   EXAMPLE=examples/direct-sync scripts/demo.sh   # another example
set -euo pipefail
cd "$(dirname "$0")/.."
example=${EXAMPLE:-examples/two-cluster}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

ldflags="-X main.version=${VERSION:-dev} -X main.commit=${COMMIT:-} -X main.date=${DATE:-}"
if [ -d "$(go env GOCACHE 2>/dev/null)" ] && [ -n "$(ls -A "$(go env GOCACHE)" 2>/dev/null)" ]; then
  say "building fleetform and fleetsim into bin/ …"
else
  say "building fleetform and fleetsim into bin/ (first build: compiling every dependency takes 1–2 minutes) …"
fi
start=$(date +%s)
go build -ldflags "$ldflags" -o bin/ ./cmd/fleetform ./cmd/fleetsim
say "built in $(( $(date +%s) - start ))s: $(bin/fleetform version)"

say "starting fleetsim: main (Kibana 127.0.0.1:5601, Elasticsearch 127.0.0.1:9200) and west (5602, 9201); log in bin/fleetsim.log"
bin/fleetsim \
  --cluster main,kibana=127.0.0.1:5601,es=127.0.0.1:9200,license=enterprise \
  --cluster west,kibana=127.0.0.1:5602,es=127.0.0.1:9201,license=enterprise \
  --sync-interval 2s >bin/fleetsim.log 2>&1 &
sim=$!
# Stop fleetsim however the script ends: its end, an error, Ctrl-C, or a reader
# that went away (make demo | head). Kill first: the message may hit that
# closed pipe, and the SIGPIPE would end the trap before the kill.
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true; say "stopped fleetsim" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q '"listener":"es"' bin/fleetsim.log 2>/dev/null && [ "$(grep -c '"url"' bin/fleetsim.log)" -ge 4 ] && break
  kill -0 $sim 2>/dev/null || {
    cat bin/fleetsim.log
    if grep -q 'address already in use' bin/fleetsim.log; then
      say "a port the demo needs (5601, 5602, 9200, 9201 on 127.0.0.1) is taken: stop what listens there (a local Kibana or Elasticsearch, an earlier fleetsim: ss -ltnp) and run make demo again"
    fi
    exit 1
  }
  sleep 0.1
done
say "fleetsim is up"

# The examples read their credentials from these variables (fleetsim's superuser).
export MAIN_ELASTIC_PASSWORD=changeme WEST_ELASTIC_PASSWORD=changeme

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
say "validate offline, plan, apply, then plan again (empty: Fleet matches $example)"
step bin/fleetform validate "$example"
step bin/fleetform plan -c "$example"
step bin/fleetform apply -c "$example" --auto-approve
step bin/fleetform plan -c "$example" --detailed-exitcode
if grep -q 'remotes:' "$example"/*.yaml; then
  say "waiting 3s for the simulated sync task (every 2s) to carry the integrations to west"
  sleep 3
  step bin/fleetform status -c "$example"
fi
