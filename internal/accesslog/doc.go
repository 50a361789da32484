// Package accesslog renders API Gateway access-log lines from a stage's $context format
// and writes them to per-log-group files without blocking the request path.
//
// # Formats
//
// [Compile] parses a stage's accessLogSettings.format once, when a deployment is compiled,
// into literal chunks and variable references; [Format.Append] renders one [Record] into
// a caller-owned buffer and allocates nothing beyond that buffer's growth.
//
// Compile applies AWS's admission rules for REST stages:
//   - The format must be a single line. One trailing "\n" (or "\r\n") is allowed and
//     dropped; any other line break is refused with AWS's text "Access Log format must be
//     single line, new line character is allowed only at end of the format: '<format>'"
//     (seen in a real CloudFormation failure).
//   - It must reference $context.requestId or $context.extendedRequestId. The current
//     developer guide ("set-up-access-logging") accepts either; the 2023 guide and
//     aws-reference §7 name only requestId. Refused with "Access Log format must include
//     either $context.requestId or $context.extendedRequestId" (wording quoted by
//     CloudFormation linters; not seen verbatim from AWS).
//   - At most [MaxFormatSize] bytes (AWS quota "access log template size: 3 KB"; the error
//     text is ours).
//
// Both $context.name and ${context.name} are recognised. A name is a dot-separated list
// of identifiers made of [A-Za-z0-9_] (AWS: "the only supported special character is the
// underscore"); a trailing "." or any other character ends the reference and is kept as
// literal text, so "$context.status." renders "200.". Anything else that starts with "$"
// is literal text (AWS: "only $context variables are supported").
//
// Unknown variables are accepted and render as "-": REST stages do not reject them (HTTP
// APIs do; that check belongs to the HTTP API control plane). $context.authorizer.<key>
// reads [Record.Authorizer] and $context.authorizer.claims.<key> reads
// [Record.AuthorizerClaims]; $context.authorizer.claims alone renders "-" (AWS: returns
// null). Besides AWS's REST variables, gatehouse supports $context.identity.vpceId and
// $context.identity.vpcId (they appear in the Lambda proxy event of private APIs; whether
// AWS's access log knows them is unconfirmed).
//
// # Values
//
// An empty or unavailable value renders "-", as AWS does: an empty string, a zero status,
// a zero time, a negative latency or length. Start each request from [Record.Reset], which
// marks latencies and the response length "not applicable", rather than from the zero
// value. Latencies are whole milliseconds; $context.requestTime is CLF
// ("02/Jan/2006:15:04:05 +0000", UTC); $context.requestTimeEpoch is epoch milliseconds;
// $context.error.messageString is the message in JSON quotes.
//
// Escaping: AWS inserts values raw, so a quote in a User-Agent breaks a JSON format (see
// DataBiosphere/azul#4348). gatehouse instead escapes a value when its variable sits
// inside a JSON string of a JSON format (a format whose first non-blank character is
// "{"): '"', '\\' and control characters are escaped as in JSON and invalid UTF-8 becomes
// U+FFFD, so every line of such a format stays valid JSON. Everywhere else values are
// raw except control characters, which are always escaped JSON-style ("\n", "\u0001") so
// one request is always one line.
//
// # Sinks
//
// [Sinks] maps CloudWatch Logs log-group ARNs to files under {dir}/logs/. A [Writer]
// appends a line to an in-memory buffer under a mutex and returns; a goroutine per log
// group writes the buffer to disk every 100 ms or as soon as it holds 256 KB. When all
// buffers together hold 64 MB, further lines are dropped and counted ([Sinks.Dropped]).
// [Sinks.Close] flushes everything and stops the goroutines.
package accesslog
