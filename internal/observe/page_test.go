package observe

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/metrics"
	"github.com/seqwatch/seqwatch/internal/web"
)

// The page shows what the rules judged and the lists do not: a missing
// discovery directory and the deferred operations no one runs, a line
// each, and the Scheduled operations waiting for their time apart from
// those in progress.
func TestThePageShowsWhatTheListsDoNot(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	o := &Observer{app: "shop", now: func() time.Time { return now }, metrics: metrics.New("test"), board: web.NewBoard(nil)}
	missing := check.MissingDir{Of: "operation", Path: "/srv/shop/database/operations"}
	snap := &check.Snapshot{App: "shop", TakenAt: now, MissingDirs: []check.MissingDir{missing}, Warnings: []string{missing.String()},
		Scheduled: []check.Attempt{{ID: "7", Name: "2024_03_01_100000_Nightly", Type: "scheduled", State: "pending", ExecutedAt: *ago(3 * time.Hour), RunningFor: check.Duration(3 * time.Hour)}},
		Deferred:  &check.Deferred{Pending: 4, OldestDueAt: ago(2 * time.Hour), Processing: 1, OldestReservedAt: ago(3 * time.Hour)}}
	o.ReadEnded(now, check.Assess(snap, check.DefaultThresholds()), nil, nil)
	got := o.last
	want := []string{
		missing.String(),
		"1 deferred operation processing, the oldest reserved 3h00m ago (more than 1h00m: its worker died?)",
		"4 deferred operations pending, the oldest due 2h00m ago (more than 1h00m: is sequencer:deferred-process scheduled?)",
	}
	if strings.Join(got.Notices, "\n") != strings.Join(want, "\n") {
		t.Errorf("notices:\n%s\nwant\n%s", strings.Join(got.Notices, "\n"), strings.Join(want, "\n"))
	}
	if got.Verdict != "UNKNOWN" || len(got.Scheduled) != 1 || got.Scheduled[0].Stuck || len(got.InProgress) != 0 {
		t.Errorf("verdict %s, scheduled %+v, in progress %+v", got.Verdict, got.Scheduled, got.InProgress)
	}
}

// The page keeps the first whole frames of a trace within 1 KiB, whatever
// its length: it holds every application's failures until the next tick.
func TestThePageKeepsTheHeadOfEachTrace(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	failed := now.Add(-time.Hour)
	var b strings.Builder
	for i := range 10000 { // about 1 MB
		fmt.Fprintf(&b, "#%d /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(%d): run()\n", i, 800+i)
	}
	trace := b.String()
	o := &Observer{app: "shop", now: func() time.Time { return now }, metrics: metrics.New("test"), board: web.NewBoard(nil)}
	snap := &check.Snapshot{App: "shop", TakenAt: now, Failing: []check.Failure{{
		Attempt: check.Attempt{ID: "42", Name: "2024_03_01_100000_Backfill", Type: "sync", ExecutedAt: failed, FailedAt: &failed},
		Errors:  []check.ErrorRecord{{ID: "1", Exception: "RuntimeException", Message: "boom", Trace: trace, CreatedAt: &failed}}}}}
	o.ReadEnded(now, check.Assess(snap, check.DefaultThresholds()), nil, nil)
	if len(o.last.Failing) != 1 || len(o.last.Failing[0].Errors) != 1 {
		t.Fatalf("failing = %+v, want the failure with its error", o.last.Failing)
	}
	got := o.last.Failing[0].Errors[0].Trace
	if len(got) > 1<<10 || len(got) < 900 || !strings.HasPrefix(trace, got+"\n") {
		t.Errorf("the page keeps %d bytes of a %d-byte trace, want its first whole frames within 1 KiB:\n%s", len(got), len(trace), got)
	}
}
