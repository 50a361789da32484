"""An API Gateway Lambda proxy handler that echoes the event it received.

Create it with gatehouse (runtime python3.12, handler handler.handler):

    zip echo-python.zip handler.py
    aws lambda create-function --endpoint-url http://127.0.0.1:4566 \
        --function-name echo-python --runtime python3.12 --handler handler.handler \
        --role arn:aws:iam::111111111111:role/echo --zip-file fileb://echo-python.zip
"""

import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    logger.info("request %s for %s", context.aws_request_id, context.invoked_function_arn)
    if isinstance(event, dict) and event.get("action") == "fail":
        raise ValueError("asked to fail")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Echo": "echo-python"},
        "body": json.dumps(
            {
                "event": event,
                "functionName": context.function_name,
                "memoryLimitInMB": context.memory_limit_in_mb,
                "remainingMillis": context.get_remaining_time_in_millis(),
            }
        ),
    }
