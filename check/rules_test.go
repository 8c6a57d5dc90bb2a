package check_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/event"
)

func problemKeys(ps check.Problems) []string {
	var keys []string
	for _, p := range ps.All() {
		keys = append(keys, p.Key)
	}
	return keys
}

// The keys are stored in the daemon's state file (State.Open, State.Seen):
// they are spelt out here so that no change to the rules can change one.
func TestAssessKeysAreTheStoredOnes(t *testing.T) {
	s := snapshot(11,
		[]check.Failure{failure("42", opA, 5, "E", "newest"), failure("41", opA, 2, "E", "older")},
		[]check.Attempt{running(opB, 2*time.Hour)},
		[]check.DeferredFailure{{ID: "d1", Operation: "SendMail"}})
	ps := check.Assess(s, check.Thresholds{MaxPending: 10, StuckAfter: time.Hour})
	want := []string{
		"operation.failed/" + opA + "/42",
		"operation.failed/" + opA + "/41",
		"deferred.failed/d1",
		"pending.threshold",
		"operation.stuck/" + opB + "/" + opB,
	}
	if got := problemKeys(ps); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("keys = %q\nwant %q", got, want)
	}
	for _, key := range want {
		if !ps.Has(key) {
			t.Errorf("Has(%q) = false", key)
		}
	}
	down, _ := check.Unreachable(check.SourceDown{Failures: 3}, check.Thresholds{})
	if down.Key != "source.unreachable" {
		t.Errorf("unreachable key = %q", down.Key)
	}
	// A problem.closed names its problem by the key alone: the kind is
	// the key's first part (event.ProblemKind).
	for _, p := range append(ps.All(), down) {
		if got := event.ProblemKind(p.Key); got != p.Kind {
			t.Errorf("the key %q names the kind %q, not its problem's %q", p.Key, got, p.Kind)
		}
	}
	for key, kind := range map[string]event.Kind{check.DeferredStuckKey: event.DeferredStuck, check.DeferredOverdueKey: event.DeferredOverdue,
		check.RolledBackKey(opA, "3"): event.OperationRolledBack, check.MissingDirKey("/app/ops"): event.SourceUnreachable} {
		if got := event.ProblemKind(key); got != kind {
			t.Errorf("the key %q names the kind %q, not %q", key, got, kind)
		}
	}
}

func TestAssess(t *testing.T) {
	tests := []struct {
		name  string
		snap  *check.Snapshot
		th    check.Thresholds
		kinds []event.Kind
	}{
		{
			name: "nothing wrong is no problem", snap: snapshot(3, nil, []check.Attempt{running(opA, 5*time.Minute)}, nil),
			th: check.Thresholds{MaxPending: 10, StuckAfter: time.Hour},
		},
		{
			name: "every failing run is a problem of its own", snap: snapshot(0, []check.Failure{failure("2", opA, 2, "E", "m"), failure("1", opA, 1, "E", "m")}, nil, nil),
			kinds: []event.Kind{event.OperationFailed, event.OperationFailed},
		},
		{
			name: "pending at max_pending is no problem", snap: snapshot(10, nil, nil, nil),
			th: check.Thresholds{MaxPending: 10},
		},
		{
			name: "pending over max_pending is one problem", snap: snapshot(11, nil, nil, nil),
			th: check.Thresholds{MaxPending: 10}, kinds: []event.Kind{event.PendingThreshold},
		},
		{
			name: "max_pending 0 is off", snap: snapshot(1000, nil, nil, nil),
		},
		{
			name: "a run at exactly stuck_after is not stuck", snap: snapshot(0, nil, []check.Attempt{running(opA, time.Hour)}, nil),
			th: check.Thresholds{StuckAfter: time.Hour},
		},
		{
			name: "a run a second over stuck_after is stuck", snap: snapshot(0, nil, []check.Attempt{running(opA, time.Hour+time.Second)}, nil),
			th: check.Thresholds{StuckAfter: time.Hour}, kinds: []event.Kind{event.OperationStuck},
		},
		{
			name: "stuck_after 0 is off", snap: snapshot(0, nil, []check.Attempt{running(opA, 100*time.Hour)}, nil),
		},
		{
			name: "exhausted deferred operations are problems", snap: snapshot(0, nil, nil, []check.DeferredFailure{{ID: "1"}, {ID: "2"}}),
			kinds: []event.Kind{event.DeferredFailed, event.DeferredFailed},
		},
		{
			name: "no deferred table is no problem", snap: snapshot(0, nil, nil, nil),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := check.Assess(tc.snap, tc.th)
			var kinds []event.Kind
			for _, p := range ps.All() {
				kinds = append(kinds, p.Kind)
			}
			if fmt.Sprint(kinds) != fmt.Sprint(tc.kinds) || ps.Len() != len(tc.kinds) {
				t.Errorf("kinds = %v, want %v", kinds, tc.kinds)
			}
		})
	}
}

// How long a run has been in progress is its RunningFor, or the time since
// it started when RunningFor is unset; check's verdict and the daemon's
// alert both take the judged duration.
func TestAssessMeasuresARunWithoutRunningForFromTakenAt(t *testing.T) {
	a := running(opA, 2*time.Hour)
	a.RunningFor = 0
	ps := check.Assess(snapshot(0, nil, []check.Attempt{a}, nil), check.Thresholds{StuckAfter: time.Hour})
	stuck := ps.Of(event.OperationStuck)
	if len(stuck) != 1 || stuck[0].Running.RunningFor.Std() != 2*time.Hour {
		t.Fatalf("stuck = %+v", stuck)
	}
	if line := ps.Verdict().Line(); !strings.Contains(line, "1 operation in progress longer than 1h00m ("+opA+" running for 2h00m)") {
		t.Errorf("line = %s", line)
	}
}

// Exhausted deferred operations are judged from the list the snapshot
// holds, not from its counts: the two agree for a snapshot that Read made,
// and check used to say OK for a listed one that was not counted, while the
// daemon alerted on it.
func TestVerdictCountsTheDeferredProblems(t *testing.T) {
	s := snapshot(0, nil, nil, []check.DeferredFailure{{ID: "1", Operation: "SendMail", LastError: "SMTP timeout"}})
	s.Counts.DeferredExhausted = 0
	v := check.Judge(s, check.Thresholds{})
	want := "SEQWATCH CRITICAL - 1 deferred operation out of attempts (SendMail: SMTP timeout) | failed=0 pending=0 in_progress=0 stuck=0 pending_migrations=0 completed=0 deferred_failed=1 unreadable_rows=0 scheduled=0 rolled_back=0"
	if v.Status != check.Critical || v.Line() != want {
		t.Errorf("Line() = %s\nwant %s", v.Line(), want)
	}
}

func TestThresholdsClearAt(t *testing.T) {
	for _, tt := range []struct {
		th   check.Thresholds
		want int
	}{
		{check.Thresholds{MaxPending: 10}, 8},
		{check.Thresholds{MaxPending: 1}, 0},
		{check.Thresholds{MaxPending: 10, PendingClearBelow: 3}, 3},
		{check.Thresholds{MaxPending: 10, PendingClearBelow: 10}, 9},
		{check.Thresholds{}, 0},
	} {
		t.Run(fmt.Sprintf("%+v", tt.th), func(t *testing.T) {
			if got := tt.th.ClearAt(); got != tt.want {
				t.Errorf("ClearAt() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failures int
		after    int
		want     bool
	}{
		{"below the default of 3", 2, 0, false},
		{"at the default of 3", 3, 0, true},
		{"below the configured limit", 4, 5, false},
		{"at the configured limit", 1, 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := check.Unreachable(check.SourceDown{Failures: tt.failures, LastError: "refused"}, check.Thresholds{UnreachableAfter: tt.after})
			if ok != tt.want {
				t.Fatalf("Unreachable = %v, want %v", ok, tt.want)
			}
			if ok && (p.Kind != event.SourceUnreachable || p.Status != check.Unknown || p.Source.Failures != tt.failures) {
				t.Errorf("problem = %+v", p)
			}
		})
	}
}

// The zero Problems judged nothing: its verdict is OK with nothing in it,
// not a panic.
func TestZeroProblems(t *testing.T) {
	var ps check.Problems
	if v := ps.Verdict(); v.Status != check.OK || ps.Len() != 0 || ps.Has(check.PendingKey) {
		t.Errorf("verdict %+v", v)
	}
}

// The rules and the verdict import no database driver, no reader code of
// their own package's (database/sql) and nothing of seqwatch but the notify
// core and internal/text: they judge a snapshot however it was read, and
// move with the model when check is split.
func TestRulesImportNoReader(t *testing.T) {
	allowed := map[string]bool{
		"errors": true, "fmt": true, "strings": true, "time": true,
		"github.com/seqwatch/seqwatch/internal/event": true, "github.com/seqwatch/seqwatch/internal/text": true,
	}
	for _, file := range []string{"rules.go", "verdict.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %s", file, path)
			}
		}
	}
}
