package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/seqwatch/seqwatch/check"
)

func runDaemon(ctx context.Context, args []string, e env) error { return errors.New("not yet") }
func runNotify(ctx context.Context, args []string, e env) error { return errors.New("not yet") }
func runValidate(args []string, e env) int                      { return 1 }
func demoAlertTick(ctx context.Context, w io.Writer, snap *check.Snapshot, th check.Thresholds, now time.Time) error {
	return nil
}
