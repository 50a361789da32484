#!/usr/bin/env bash
# The whitepaper's Basic and Cross-account architectures for private APIs, against a
# gatehouse running examples/basic/topology.yaml:
#
#   gatehouse serve --config examples/basic/topology.yaml --data-dir ./gatehouse-data
#   examples/basic/run.sh [basic|cross-account|all]      (default: all)
#
# It uses the aws CLI (control plane) and curl (data plane, from source addresses inside
# the VPCs). Every check prints PASS or FAIL; the exit status is 1 if any check failed.
#
# Addresses default to the topology file; override them when gatehouse listens elsewhere:
#   GATEHOUSE_ENDPOINT_URL     control plane              (http://127.0.0.1:4566)
#   GATEHOUSE_CA               gatehouse's CA certificate (./gatehouse-data/ca.pem)
#   GATEHOUSE_PUBLIC           public listener            (127.0.0.1:8443)
#   GATEHOUSE_PROVIDER_VPCE    provider endpoint host:port (127.10.1.10:8443)
#   GATEHOUSE_CONSUMER_VPCE    consumer endpoint host:port (127.30.1.10:8443)
set -euo pipefail
shopt -s inherit_errexit # a failing aws call inside $(...) stops the script too

ENDPOINT_URL=${GATEHOUSE_ENDPOINT_URL:-http://127.0.0.1:4566}
CA=${GATEHOUSE_CA:-./gatehouse-data/ca.pem}
PUBLIC=${GATEHOUSE_PUBLIC:-127.0.0.1:8443}
PROVIDER_VPCE_ADDR=${GATEHOUSE_PROVIDER_VPCE:-127.10.1.10:8443}
CONSUMER_VPCE_ADDR=${GATEHOUSE_CONSUMER_VPCE:-127.30.1.10:8443}

REGION=us-east-1
PROVIDER_ACCOUNT=111111111111
PROVIDER_VPCE=vpce-0aaaaaaaaaaaaaaa1 # in the provider's VPC, vpc-0aaaaaaaaaaaaaaa1
CONSUMER_VPCE=vpce-0ccccccccccccccc3 # in the consumer's VPC, vpc-0ccccccccccccccc3
PROVIDER_HOST=127.10.0.5             # a machine in the provider's VPC
CONSUMER_HOST=127.30.0.5             # a machine in the consumer's VPC

failures=0

# as ACCOUNT aws-args...: the aws CLI with that account's keys.
as() {
  local who=$1; shift
  local key secret
  case $who in
    provider) key=AKIAPROVIDER00000001 secret=provider-secret ;;
    consumer) key=AKIACONSUMER00000001 secret=consumer-secret ;;
  esac
  AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_DEFAULT_REGION=$REGION \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    aws --endpoint-url "$ENDPOINT_URL" "$@"
}

# policy_only VPCE: Allow execute-api:/*, Deny unless the request came through VPCE.
# "execute-api:/*" is expanded to the API's full ARN when the policy is saved.
policy_only() {
  cat <<JSON
{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
 {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
  "Condition":{"StringNotEquals":{"aws:SourceVpce":"$1"}}}]}
JSON
}

# create_api NAME VPCE: a PRIVATE API in the provider account with GET /hello (a MOCK
# answering {"message":"hello from NAME"}), the policy allowing only VPCE, deployed to
# stage prod. Prints the API id.
create_api() {
  local name=$1 vpce=$2 api root res
  read -r api root < <(as provider apigateway create-rest-api --name "$name" --endpoint-configuration types=PRIVATE \
    --policy "$(policy_only "$vpce")" --query '[id,rootResourceId]' --output text)
  if [ -z "${api:-}" ] || [ -z "${root:-}" ]; then
    echo "create-rest-api failed" >&2
    exit 1
  fi
  res=$(as provider apigateway create-resource --rest-api-id "$api" --parent-id "$root" --path-part hello --query id --output text)
  as provider apigateway put-method --rest-api-id "$api" --resource-id "$res" --http-method GET --authorization-type NONE >/dev/null
  as provider apigateway put-integration --rest-api-id "$api" --resource-id "$res" --http-method GET --type MOCK \
    --request-templates '{"application/json":"{\"statusCode\": 200}"}' >/dev/null
  as provider apigateway put-method-response --rest-api-id "$api" --resource-id "$res" --http-method GET --status-code 200 >/dev/null
  as provider apigateway put-integration-response --rest-api-id "$api" --resource-id "$res" --http-method GET --status-code 200 \
    --response-templates "{\"application/json\":\"{\\\"message\\\":\\\"hello from $name\\\"}\"}" >/dev/null
  as provider apigateway create-deployment --rest-api-id "$api" --stage-name prod >/dev/null
  echo "$api"
}

# call FROM ADDR URL [curl-args...]: GET URL connecting from address FROM to ADDR (what
# DNS inside the VPC would give). Sets STATUS (000 = no connection) and BODY.
call() {
  local from=$1 addr=$2 url=$3; shift 3
  local out
  out=$(mktemp)
  local src=()
  [ -n "$from" ] && src=(--interface "$from")
  STATUS=$(curl -s --noproxy '*' --max-time 10 --cacert "$CA" "${src[@]}" --connect-to "::$addr" \
    -o "$out" -w '%{http_code}' "$@" "$url" || true)
  BODY=$(cat "$out")
  rm -f "$out"
}

# check LABEL WANT_STATUS [WANT_BODY_SUBSTRING]: compares the last call.
check() {
  local label=$1 want=$2 substr=${3:-}
  if [ "$STATUS" = "$want" ] && [[ "$BODY" == *"$substr"* ]]; then
    echo "PASS $label -> $STATUS $BODY"
  else
    echo "FAIL $label -> $STATUS $BODY (want $want${substr:+ with $substr})"
    failures=$((failures + 1))
  fi
}

# until_ok FROM ADDR URL: repeats the call for up to 5 s until it answers 200 (a new
# deployment reaches the data plane within milliseconds).
until_ok() {
  local i
  for i in $(seq 50); do
    call "$@"
    [ "$STATUS" = 200 ] && return 0
    sleep 0.1
  done
}

# The endpoint-specific public DNS name: {vpce}-{8 hex digits}.execute-api.{region}.vpce.amazonaws.com
# (gatehouse derives the digits from the endpoint id: the first 4 bytes of its SHA-256).
vpce_dns() {
  echo "$1-$(printf %s "$1" | sha256sum | cut -c1-8).execute-api.$REGION.vpce.amazonaws.com"
}

denied() { # the AccessDenied message for GET /hello on stage prod of API $1
  echo "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:$REGION:********${PROVIDER_ACCOUNT: -4}:$1/prod/GET/hello with an explicit deny"
}

basic() {
  echo "== Basic architecture: API, VPC and endpoint in account $PROVIDER_ACCOUNT; the policy allows only $PROVIDER_VPCE"
  local api host
  api=$(create_api basic "$PROVIDER_VPCE")
  host="$api.execute-api.$REGION.amazonaws.com"
  echo "api $api"

  until_ok "$PROVIDER_HOST" "$PROVIDER_VPCE_ADDR" "https://$host/prod/hello"
  check "basic: from the VPC through $PROVIDER_VPCE (private DNS)" 200 '"message":"hello from basic"'

  call "$PROVIDER_HOST" "$PROVIDER_VPCE_ADDR" "https://$(vpce_dns "$PROVIDER_VPCE")/prod/hello" -H "x-apigw-api-id: $api"
  check "basic: from the VPC through the endpoint's own DNS name + x-apigw-api-id" 200 '"message":"hello from basic"'

  call "$CONSUMER_HOST" "$CONSUMER_VPCE_ADDR" "https://$host/prod/hello"
  check "basic: from another VPC through its own endpoint" 403 "$(denied "$api")"

  call "" "$PUBLIC" "https://$host/prod/hello"
  check "basic: from the internet (public listener)" 403 '{"message":"Forbidden"}'
  echo "== Basic architecture: done"
}

cross_account() {
  echo "== Cross-account architecture: API in account $PROVIDER_ACCOUNT; endpoint $CONSUMER_VPCE in account 222222222222's VPC"
  local api host
  api=$(create_api cross-account "$CONSUMER_VPCE")
  host="$api.execute-api.$REGION.amazonaws.com"
  echo "api $api"

  until_ok "$CONSUMER_HOST" "$CONSUMER_VPCE_ADDR" "https://$host/prod/hello"
  check "cross-account: from the consumer's VPC through $CONSUMER_VPCE (private DNS)" 200 '"message":"hello from cross-account"'

  call "$CONSUMER_HOST" "$CONSUMER_VPCE_ADDR" "https://$(vpce_dns "$CONSUMER_VPCE")/prod/hello" -H "Host: $host"
  check "cross-account: from the consumer's VPC through the endpoint's own DNS name + Host" 200 '"message":"hello from cross-account"'

  call "$PROVIDER_HOST" "$PROVIDER_VPCE_ADDR" "https://$host/prod/hello"
  check "cross-account: from the provider's own VPC through $PROVIDER_VPCE" 403 "$(denied "$api")"

  call "$PROVIDER_HOST" "$CONSUMER_VPCE_ADDR" "https://$host/prod/hello"
  check "cross-account: from the provider's VPC to the consumer's endpoint (security group)" 000

  call "" "$PUBLIC" "https://$host/prod/hello"
  check "cross-account: from the internet (public listener)" 403 '{"message":"Forbidden"}'

  # The consumer calls the API but cannot manage (or even see) it.
  local out
  if out=$(as consumer apigateway get-rest-api --rest-api-id "$api" 2>&1); then
    echo "FAIL cross-account: the consumer account can read the provider's API: $out"
    failures=$((failures + 1))
  elif [[ "$out" == *NotFoundException* ]]; then
    echo "PASS cross-account: the consumer account does not see the provider's API (NotFoundException)"
  else
    echo "FAIL cross-account: unexpected error for the consumer: $out"
    failures=$((failures + 1))
  fi
  echo "== Cross-account architecture: done"
}

case ${1:-all} in
  basic) basic ;;
  cross-account) cross_account ;;
  all) basic; cross_account ;;
  *) echo "usage: $0 [basic|cross-account|all]" >&2; exit 2 ;;
esac
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
