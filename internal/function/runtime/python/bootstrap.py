"""gatehouse's Lambda runtime loop for python3.x functions.

A small stand-in for the AWS Lambda Python Runtime Interface Client
(awslambdaric), which gatehouse cannot install (PyPI is not reachable from
its build machines). It uses only the standard library and speaks the Lambda
Runtime API at $AWS_LAMBDA_RUNTIME_API: it imports the handler named by
$_HANDLER ("module.function", module relative to $LAMBDA_TASK_ROOT), then
loops over GET /invocation/next, calling handler(event, context) and posting
the JSON result to /invocation/{id}/response, or an error document to
/invocation/{id}/error. Import failures go to /init/error and the process
exits, as the real client does. Error types and messages follow awslambdaric
(Runtime.ImportModuleError, Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError,
Runtime.MalformedHandlerName, Runtime.UnmarshalError, Runtime.MarshalError).
"""

import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

API_VERSION = "2018-06-01"


class RuntimeClient:
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host = host or "127.0.0.1"
        self.port = int(port)
        self.conn = None

    def _request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, "/" + API_VERSION + path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                return resp, data
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")

    def next(self):
        resp, data = self._request("GET", "/runtime/invocation/next")
        if resp.status != 200:
            raise RuntimeError("/invocation/next returned %d: %r" % (resp.status, data))
        return resp, data

    def post_response(self, request_id, body):
        self._post("/runtime/invocation/%s/response" % request_id, body, {"Content-Type": "application/json"})

    def post_error(self, request_id, doc):
        self._post(
            "/runtime/invocation/%s/error" % request_id,
            json.dumps(doc).encode(),
            {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": doc["errorType"]},
        )

    def post_init_error(self, doc):
        self._post(
            "/runtime/init/error",
            json.dumps(doc).encode(),
            {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": doc["errorType"]},
        )

    def _post(self, path, body, headers):
        resp, data = self._request("POST", path, body, headers)
        if resp.status == 413:
            # The payload was too large; the invocation has already failed.
            return
        if resp.status != 202:
            raise RuntimeError("%s returned %d: %r" % (path, resp.status, data))


class FaultError(Exception):
    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def error_document(error_type, message, request_id="", trace=None):
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace or [],
    }


def load_handler(task_root, handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultError("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    modname = modname.replace("/", ".")
    if task_root and task_root not in sys.path:
        sys.path.insert(0, task_root)
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        raise FaultError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s\n' % (e.filename, e.lineno, (e.text or "").strip())]
        raise FaultError("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e), trace)
    except Exception as e:
        raise FaultError(type(e).__name__, str(e), traceback.format_list(traceback.extract_tb(e.__traceback__)))
    fn = getattr(module, fname, None)
    if fn is None or not callable(fn):
        raise FaultError("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
    return fn


class CognitoIdentity:
    def __init__(self, doc):
        self.cognito_identity_id = doc.get("cognitoIdentityId")
        self.cognito_identity_pool_id = doc.get("cognitoIdentityPoolId")


class ClientContext:
    def __init__(self, doc):
        self.client = doc.get("client")
        self.custom = doc.get("custom")
        self.env = doc.get("env")


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, client_context, identity):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = deadline_ms
        self.client_context = client_context
        self.identity = identity

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))
        sys.stdout.flush()


class RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record):
        record.aws_request_id = RequestIdFilter.request_id
        return True


def setup_logging():
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    fmt = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S")
    fmt.converter = time.gmtime
    handler.setFormatter(fmt)
    handler.terminator = ""
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)


def parse_json_header(value, cls):
    if not value:
        return None
    try:
        return cls(json.loads(value))
    except Exception:
        return None


def handle(client, fn, headers, body):
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
    RequestIdFilter.request_id = request_id
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
    except ValueError:
        deadline_ms = 0
    context = LambdaContext(
        request_id,
        deadline_ms,
        headers.get("Lambda-Runtime-Invoked-Function-Arn"),
        parse_json_header(headers.get("Lambda-Runtime-Client-Context"), ClientContext),
        parse_json_header(headers.get("Lambda-Runtime-Cognito-Identity"), CognitoIdentity),
    )
    try:
        try:
            event = json.loads(body) if body else None
        except ValueError as e:
            raise FaultError("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        result = fn(event, context)
        try:
            out = json.dumps(result).encode()
        except (TypeError, ValueError) as e:
            raise FaultError("Runtime.MarshalError", "Unable to marshal response: %s" % e)
    except FaultError as e:
        doc = error_document(e.error_type, e.message, request_id, e.trace)
        sys.stdout.write("[ERROR] %s: %s\n" % (e.error_type, e.message))
        client.post_error(request_id, doc)
        return
    except Exception as e:
        trace = traceback.format_list(traceback.extract_tb(e.__traceback__)[1:])
        doc = error_document(type(e).__name__, str(e), request_id, trace)
        sys.stdout.write("[ERROR] %s: %s\nTraceback (most recent call last):\n%s" % (type(e).__name__, e, "".join(trace)))
        client.post_error(request_id, doc)
        return
    client.post_response(request_id, out)


def main():
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    setup_logging()
    try:
        fn = load_handler(os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()), os.environ.get("_HANDLER", ""))
    except FaultError as e:
        sys.stdout.write("[ERROR] %s: %s\n" % (e.error_type, e.message))
        client.post_init_error(error_document(e.error_type, e.message, "", e.trace))
        sys.exit(1)
    while True:
        resp, body = client.next()
        handle(client, fn, resp.msg, body)


if __name__ == "__main__":
    main()
