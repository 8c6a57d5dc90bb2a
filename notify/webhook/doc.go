// Package webhook is seqwatch's generic webhook channel: it POSTs each alert
// as one JSON document, signed by the Standard Webhooks convention
// (https://www.standardwebhooks.com), and provides Verify for receivers.
//
// It holds the channel's configuration, validation and sender, the
// document's types (Payload) and Verify. It is public for receivers
// written in Go, which import it only to call Verify: of seqwatch it
// imports only notify and internal/text, and it must not import check,
// state, another channel, any database driver or tablewriter.
//
// # Request
//
//	POST <url>
//	Content-Type: application/json
//	User-Agent: seqwatch-webhook
//	webhook-id: <the document's "id">          stable across retries
//	webhook-timestamp: <unix seconds>          time of this attempt
//	webhook-signature: v1,<sig> [v1,<sig>...]  only when secrets are set
//	<configured extra headers>
//
// Each <sig> is base64 (standard alphabet, padded) of
// HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>"), one per
// configured secret, space-separated. The key of a "whsec_<base64>" secret is
// the decoded base64; any other secret string is its own key (equivalent to
// "whsec_" + base64(secret)). Receivers should check the signature and
// reject timestamps more than 5 minutes away from their clock (Verify does
// both), and deduplicate on webhook-id: a retried delivery carries the same
// id and body, with a new timestamp and signature.
//
// # Body (schema version 1)
//
// One document per request. Times are RFC 3339 strings in the application's
// time zone, or null when unknown. Strings are carried verbatim (invalid
// UTF-8 is replaced by U+FFFD) and never escaped for markup. Two are
// bounded, because every event waits in the state file until it is sent:
// an error's "message" is cut after 8 KiB with a marker ("… (N more
// bytes)"), and its "trace" after the last whole frame within 16 KiB (4 KiB
// in a first-run digest) with no marker; "trace_frames" and "trace_bytes"
// always describe the whole trace as recorded, so a receiver can tell that
// the trace was cut (its frames, the non-blank lines, are fewer than
// "trace_frames") and say how many frames it lacks.
//
//	{
//	  "version": 1,
//	  "event": "operation.failed",   // the event kind (notify.Kind), "digest" for a batch
//	  "id": "01HN…",                 // equals the webhook-id header
//	  "key": "operation.failed/2024_01_13_120000_FailedOperation/42",
//	                                 // the problem the event is about (a recovery carries
//	                                 // the failure's key); "" for a batch digest
//	  "app": "shop",
//	  "environment": "production",   // "" when unknown
//	  "occurred_at": "2024-01-13T12:00:03+01:00",
//	  "summary": "one line of plain text",
//	  "operation": {                 // null unless the event is about an operation
//	    "id": "42", "name": "2024_01_13_120000_FailedOperation", "type": "sync",
//	    "executed_at": "…", "failed_at": "…" | null, "completed_at": "…" | null,
//	                                 // operation.recovered describes the failed run; its
//	                                 // completed_at is when the run that completed started
//	                                 // (the time seqwatch reads for that run)
//	    "running_for_seconds": 5400 | null,  // set for operation.stuck
//	    "rolled_back_at": "…"        // only in operation.rolled_back
//	  },
//	  "cause": { … },                // only in operation.rolled_back, when found: the
//	                                 // failed run (same shape as "operation") of the same
//	                                 // deploy that made Sequencer roll the operation back
//	  "errors": [                    // [] when none were recorded
//	    {"exception": "RuntimeException", "message": "…", "trace": "#0 …",
//	     "context": "{\"file\":…}",   // the raw JSON text of the context column, or ""
//	     "created_at": "…",
//	     "trace_frames": 9187,       // frames of the whole trace
//	     "trace_bytes": 1048576}     // bytes of the whole trace
//	  ],
//	  "pending": {"count": 12, "threshold": 10, "names": ["…"]} | null,
//	  "deferred": {"id": "7", "operation": "…", "attempts": 3, "max_attempts": 3,
//	               "last_error": "…"} | null,
//	  "source": "why the database is unreachable (redacted)" | null,
//	  "deploy": {"command": "php artisan sequencer:process", "exit_code": 0,
//	             "signal": "…", "status": "OK", "seconds": 42,
//	             "completed": ["…"], "failed": [{"name": "…", "exception": "…",
//	             "message": "…"}], "rolled_back": ["…"], "skipped": [{"name": "…",
//	             "reason": "…"}], "running": ["…"], "scheduled": ["…"],
//	             "not_run": ["…"]},   // deploy.finished only; absent otherwise
//	  "events": [ … ],               // the events this one stands for, each of this
//	                                 // same shape; [] for a single event
//	  "text": "…"                    // only with a body template in the channel's
//	                                 // templates: what it wrote, as plain text
//	}
//
// When one Notify call carries several events the document is a batch
// digest: "event" is "digest", "id" is DigestID of the member ids ("dig_" +
// hex SHA-256 of the sorted ids, each followed by a NUL byte, so the same
// batch always has the same id), "key" is "", "app" and "environment" are
// the members' when they all agree and "" otherwise, "occurred_at" is the
// newest member's, "summary" counts the members by kind, "operation",
// "pending", "deferred" and "source" are null, "errors" is [], and "events"
// lists the members in the order given. A Digest or Reminder event passed on
// its own keeps its own kind and id and lists its items under "events".
//
// New fields may be added within version 1; a change that removes or
// changes the meaning of a field increments "version".
//
// # Responses
//
// 2xx is delivered. 410 Gone disables the channel until the configuration is
// reloaded (a new Notifier). 429 and 5xx are retried, honouring Retry-After
// (seconds or an HTTP date). 408, timeouts and transport errors are retried.
// Any other status is not.
package webhook
