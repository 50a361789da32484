#!/usr/bin/env bash
# Quick start: against a gatehouse running on its embedded defaults (`go run ./cmd/gatehouse serve`),
# create a PRIVATE REST API with the aws CLI, deploy it, and call it through the VPC endpoint.
set -euo pipefail
DATA_DIR=${DATA_DIR:-./gatehouse-data}
export AWS_ACCESS_KEY_ID=AKIAPROVIDER00000001 AWS_SECRET_ACCESS_KEY=provider-secret AWS_DEFAULT_REGION=us-east-1
EP="--endpoint-url http://127.0.0.1:4566"
VPCE=vpce-0aaaaaaaaaaaaaaa1

# The resource policy: only VPC endpoint $VPCE may call the API. "execute-api:/*" is expanded
# to the API's full ARN when the policy is saved, as on AWS.
policy=$(cat <<JSON
{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
 {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
  "Condition":{"StringNotEquals":{"aws:SourceVpce":"$VPCE"}}}]}
JSON
)
api=$(aws $EP apigateway create-rest-api --name hello --endpoint-configuration types=PRIVATE \
  --policy "$policy" --query id --output text)
root=$(aws $EP apigateway get-resources --rest-api-id "$api" --query 'items[0].id' --output text)
res=$(aws $EP apigateway create-resource --rest-api-id "$api" --parent-id "$root" --path-part hello --query id --output text)
aws $EP apigateway put-method --rest-api-id "$api" --resource-id "$res" --http-method GET --authorization-type NONE >/dev/null
aws $EP apigateway put-integration --rest-api-id "$api" --resource-id "$res" --http-method GET --type MOCK \
  --request-templates '{"application/json":"{\"statusCode\": 200}"}' >/dev/null
aws $EP apigateway put-method-response --rest-api-id "$api" --resource-id "$res" --http-method GET --status-code 200 >/dev/null
aws $EP apigateway put-integration-response --rest-api-id "$api" --resource-id "$res" --http-method GET --status-code 200 \
  --response-templates '{"application/json":"{\"message\":\"hello from a private API\"}"}' >/dev/null
aws $EP apigateway create-deployment --rest-api-id "$api" --stage-name prod >/dev/null

host="$api.execute-api.us-east-1.amazonaws.com"
echo "== through the VPC endpoint (from 127.10.0.5, a host in the VPC):"
for i in 1 2 3 4 5 6 7 8 9 10; do   # the data plane applies a deployment within milliseconds
  out=$(curl -s --cacert "$DATA_DIR/ca.pem" --interface 127.10.0.5 --resolve "$host:8443:127.10.1.10" "https://$host:8443/prod/hello") && break
  sleep 0.2
done
echo "$out"
echo "== through the public listener (private APIs are never served there):"
curl -s --cacert "$DATA_DIR/ca.pem" --resolve "$host:8443:127.0.0.1" "https://$host:8443/prod/hello"; echo
