package check_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
)

// TestUnreadableValuesAreNamedNotJudged: values that cannot be read are
// named in check's summary and counted in its performance data, and
// change no verdict: a snapshot whose only oddity is one is OK, one with a
// real failure beside it is CRITICAL for that failure.
func TestUnreadableValuesAreNamedNotJudged(t *testing.T) {
	bad := []check.Unreadable{
		{Table: "operations", ID: "42", Column: "executed_at", Value: "garbage"},
		{Table: "operation_errors", ID: "7", OperationID: "41", Column: "created_at", Value: "0000-00-00 00:00:00"},
		{Table: "operations", ID: "43", Column: "failed_at", Value: "\x1b[2J|x"},
		{Table: "deferred_operations", ID: "9", Column: "failed_at", Value: "infinity"},
	}
	tests := []struct {
		name       string
		snap       *check.Snapshot
		named      int
		wantStatus check.Status
		wantLine   string
	}{
		{
			name: "alone it is OK", snap: snapshot(0, nil, nil, nil), named: 1, wantStatus: check.OK,
			wantLine: `SEQWATCH OK - no failed operations, 0 pending operations, 0 in progress -- 1 row with a value that cannot be read (operations row 42: executed_at "garbage" is not a time stamp) | failed=0 pending=0 in_progress=0 stuck=0 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=1 scheduled=0 rolled_back=0`,
		},
		{
			name: "beside a failure it changes nothing", snap: snapshot(0, []check.Failure{failure("1", opA, -5, "RuntimeException", "boom")}, nil, nil), named: 2, wantStatus: check.Critical,
			wantLine: `SEQWATCH CRITICAL - 1 failed operation (` + opA + `: RuntimeException: boom) -- 2 rows with a value that cannot be read (operations row 42: executed_at "garbage" is not a time stamp / operation_errors row 7 (of operation row 41): created_at "0000-00-00 00:00:00" is not a time stamp) | failed=1 pending=0 in_progress=0 stuck=0 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=2 scheduled=0 rolled_back=0`,
		},
		{
			name: "three are named, the rest counted", snap: snapshot(0, nil, nil, nil), named: 4, wantStatus: check.OK,
			wantLine: `SEQWATCH OK - no failed operations, 0 pending operations, 0 in progress -- 4 rows with a value that cannot be read (operations row 42: executed_at "garbage" is not a time stamp / operation_errors row 7 (of operation row 41): created_at "0000-00-00 00:00:00" is not a time stamp / operations row 43: failed_at "[2J x" is not a time stamp / and 1 more) | failed=0 pending=0 in_progress=0 stuck=0 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=4 scheduled=0 rolled_back=0`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.snap.Unreadable = bad[:tt.named]
			tt.snap.Counts.UnreadableRows = tt.named
			v := check.Judge(tt.snap, check.Thresholds{})
			if v.Status != tt.wantStatus || v.Line() != tt.wantLine {
				t.Errorf("got  %s %s\nwant %s %s", v.Status, v.Line(), tt.wantStatus, tt.wantLine)
			}
			wantOneSafeLine(t, strings.SplitN(v.Line(), " | ", 2)[0])
			if v.Counts.UnreadableRows != tt.named {
				t.Errorf("counts.unreadable_rows = %d, want %d", v.Counts.UnreadableRows, tt.named)
			}
		})
	}
}

// TestARunWhoseStartCannotBeReadIsNeverStuck: an open run with no
// readable executed_at (zero, as the reader leaves it) has run for an
// unknown time; it is in progress, never stuck, whatever StuckAfter.
func TestARunWhoseStartCannotBeReadIsNeverStuck(t *testing.T) {
	unknown := check.Attempt{ID: "5", Name: opA, Type: "async", State: "pending"}
	old := running(opB, 3*time.Hour)
	ps := check.Assess(snapshot(0, nil, []check.Attempt{unknown, old}, nil), check.Thresholds{StuckAfter: time.Minute})
	v := ps.Verdict()
	if len(v.Stuck) != 1 || v.Stuck[0].ID != old.ID {
		t.Errorf("stuck: %+v, want only %s", v.Stuck, old.ID)
	}
}
