// Command verify is the smallest program a receiver written in Go needs:
// it imports only notify/webhook and calls Verify on one delivery (body on
// stdin, the three webhook-* headers and the secret in the environment).
// TestVerifyOnlyProgramStaysSmall builds it to check what importing
// notify/webhook costs.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/seqwatch/seqwatch/notify/webhook"
)

func main() {
	body, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	if err == nil {
		h := http.Header{}
		for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
			h.Set(k, os.Getenv(k))
		}
		err = webhook.Verify(os.Getenv("WEBHOOK_SECRET"), h, body, time.Now(), 5*time.Minute)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
}
