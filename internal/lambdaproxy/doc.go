// Package lambdaproxy is API Gateway's REST Lambda proxy integration
// (AWS_PROXY, payload format 1.0) as data: BuildEvent makes the event AWS
// sends to the function, ParseResponse applies AWS's validation to what the
// function returned, and Response.BodyBytes applies binaryMediaTypes.
//
// The package does no I/O. The data plane invokes the function (package
// function's Host) between the two calls and maps errors to responses:
//
//   - a ParseResponse error (malformed output, or a function error: the
//     Invoke API's X-Amz-Function-Error, which covers crashes and the
//     function's own timeout) → 502 ErrorBody;
//   - the integration timeout (timeoutInMillis, 29 s by default) expiring
//     first → 504 {"message": "Endpoint request timed out"};
//   - no permission for API Gateway to invoke the function, or an unknown
//     function → 500 {"message": "Internal server error"}.
package lambdaproxy
