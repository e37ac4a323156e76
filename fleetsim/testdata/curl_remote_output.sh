#!/usr/bin/env bash
# A second, independent client: plain curl against a running fleetsim Kibana.
# Usage: KIBANA=http://127.0.0.1:5601 [AUTH=elastic:changeme] curl_remote_output.sh
# Creates a remote Elasticsearch output with a secret service token, checks that
# GET shows the secret only as {"id": ...}, and that deleting the default output
# gives Kibana's exact 400 body.
set -euo pipefail

: "${KIBANA:?set KIBANA to the Kibana base URL}"
AUTH="${AUTH:-elastic:changeme}"
TOKEN="AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyLXJlbW90ZS90b2tlbi1jdXJsOnNlY3JldA"

fail() { echo "FAIL: $*" >&2; exit 1; }

kb() { # method path [body] -> prints "<status>\n<body>"
  local method=$1 path=$2 body=${3:-}
  local args=(-sS -u "$AUTH" -H 'elastic-api-version: 2023-10-31' -X "$method" -w '\n%{http_code}')
  if [[ $method != GET ]]; then args+=(-H 'kbn-xsrf: true'); fi
  if [[ -n $body ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  curl "${args[@]}" "$KIBANA$path"
}

split() { # sets STATUS and BODY from kb output
  STATUS=$(printf '%s\n' "$1" | tail -n 1)
  BODY=$(printf '%s\n' "$1" | sed '$d')
}

split "$(kb POST /api/fleet/outputs "{\"id\":\"remote-curl\",\"name\":\"remote curl\",\"type\":\"remote_elasticsearch\",\"hosts\":[\"https://es.remote.example\"],\"secrets\":{\"service_token\":\"$TOKEN\"}}")"
[[ $STATUS == 200 ]] || fail "create: status $STATUS: $BODY"
echo "created: $BODY"

split "$(kb GET /api/fleet/outputs/remote-curl)"
[[ $STATUS == 200 ]] || fail "get: status $STATUS: $BODY"
[[ $BODY =~ \"secrets\":\{\"service_token\":\{\"id\":\"[^\"]+\"\}\} ]] || fail "GET does not show the secret as {id}: $BODY"
[[ $BODY != *"$TOKEN"* ]] || fail "GET leaks the token value"
[[ $BODY == *'"hosts":["https://es.remote.example:443"]'* ]] || fail "hosts not normalized: $BODY"
echo "get: secret stored as {id}"

split "$(kb DELETE /api/fleet/outputs/fleet-default-output)"
WANT='{"statusCode":400,"error":"Bad Request","message":"Default output fleet-default-output cannot be deleted."}'
[[ $STATUS == 400 ]] || fail "delete default: status $STATUS"
[[ $BODY == "$WANT" ]] || fail "delete default: body $BODY, want $WANT"
echo "delete default output: $STATUS $BODY"
echo OK
