#!/usr/bin/env bash
# demo.sh: build fleetform and fleetsim, start a simulated main cluster and a
# remote "west" on loopback, and run plan → apply → plan → status on
# examples/two-cluster. Stops the simulator on exit.
#   EXAMPLE=examples/direct-sync scripts/demo.sh   # another example
set -euo pipefail
cd "$(dirname "$0")/.."
example=${EXAMPLE:-examples/two-cluster}

go build -o bin/ ./cmd/fleetform ./cmd/fleetsim

bin/fleetsim \
  --cluster main,kibana=127.0.0.1:5601,es=127.0.0.1:9200,license=enterprise \
  --cluster west,kibana=127.0.0.1:5602,es=127.0.0.1:9201,license=enterprise \
  --sync-interval 2s >bin/fleetsim.log 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q '"listener":"es"' bin/fleetsim.log 2>/dev/null && [ "$(grep -c '"url"' bin/fleetsim.log)" -ge 4 ] && break
  kill -0 $sim 2>/dev/null || { cat bin/fleetsim.log; exit 1; }
  sleep 0.1
done

# The examples read their credentials from these variables (fleetsim's superuser).
export MAIN_ELASTIC_PASSWORD=changeme WEST_ELASTIC_PASSWORD=changeme

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step bin/fleetform validate "$example"
step bin/fleetform plan -c "$example"
step bin/fleetform apply -c "$example"
step bin/fleetform plan -c "$example" --detailed-exitcode
if grep -q 'remotes:' "$example"/*.yaml; then
  sleep 3 # let the simulated sync task (every 2s) carry the integrations to west
  step bin/fleetform status -c "$example"
fi
