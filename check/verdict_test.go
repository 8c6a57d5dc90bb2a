package check_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
)

// failure builds a failing row of name with one error, failed at minute m.
func failure(id, name string, m int, class, msg string) check.Failure {
	at := baseNow.Add(time.Duration(m) * time.Minute)
	f := check.Failure{Attempt: check.Attempt{ID: id, Name: name, Type: "sync", State: "failed", ExecutedAt: at, FailedAt: &at}, Errors: []check.ErrorRecord{}}
	if class != "" {
		f.Errors = append(f.Errors, check.ErrorRecord{ID: id + "e", Exception: class, Message: msg, Trace: "#0 {main}", CreatedAt: &at})
	}
	return f
}

// snapshot builds a snapshot with counts that agree with its lists.
func snapshot(pending int, failing []check.Failure, running []check.Attempt, exhausted []check.DeferredFailure) *check.Snapshot {
	s := &check.Snapshot{App: "shop", TakenAt: baseNow, Failing: failing, InProgress: running,
		PendingOperations: []check.PendingFile{}, PendingMigrations: []check.PendingFile{}}
	names := map[string]bool{}
	for _, f := range failing {
		names[f.Name] = true
	}
	s.Counts = check.Counts{PendingOperations: pending, Failing: len(names), FailedRows: len(failing), InProgress: len(running), Rows: len(failing) + len(running)}
	if exhausted != nil {
		s.Deferred = &check.Deferred{Exhausted: exhausted}
		s.Counts.DeferredExhausted = len(exhausted)
	}
	return s
}

func running(name string, d time.Duration) check.Attempt {
	return check.Attempt{ID: name, Name: name, Type: "async", State: "pending", ExecutedAt: baseNow.Add(-d), RunningFor: check.Duration(d)}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name       string
		snap       *check.Snapshot
		th         check.Thresholds
		wantStatus check.Status
		wantLine   string
	}{
		{
			name: "ok", snap: snapshot(3, nil, []check.Attempt{running(opA, 5*time.Minute)}, nil),
			th: check.Thresholds{MaxPending: 10, StuckAfter: time.Hour}, wantStatus: check.OK,
			wantLine: "SEQWATCH OK - no failed operations, 3 pending operations, 1 in progress | failed=0 pending=3;10 in_progress=1 stuck=0 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=0 scheduled=0 rolled_back=0",
		},
		{
			name: "warning_max_pending_exceeded", snap: snapshot(11, nil, nil, nil),
			th: check.Thresholds{MaxPending: 10}, wantStatus: check.Warning,
			wantLine: "SEQWATCH WARNING - 11 pending operations (more than 10) | failed=0 pending=11;10 in_progress=0 stuck=0 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=0 scheduled=0 rolled_back=0",
		},
		{
			name: "max_pending_reached_is_ok", snap: snapshot(10, nil, nil, nil),
			th: check.Thresholds{MaxPending: 10}, wantStatus: check.OK,
		},
		{
			name: "warning_stuck", snap: snapshot(0, nil, []check.Attempt{running(opA, 2*time.Hour+5*time.Minute), running(opB, 10*time.Minute)}, nil),
			th: check.Thresholds{StuckAfter: time.Hour}, wantStatus: check.Warning,
			wantLine: "SEQWATCH WARNING - 1 operation in progress longer than 1h00m (" + opA + " running for 2h05m) | failed=0 pending=0 in_progress=2 stuck=1 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=0 scheduled=0 rolled_back=0",
		},
		{
			name: "stuck_check_off", snap: snapshot(0, nil, []check.Attempt{running(opA, 100*time.Hour)}, nil),
			wantStatus: check.OK,
		},
		{
			name: "critical_failing", snap: snapshot(3, []check.Failure{failure("7", "NAME", 0, `Illuminate\Database\QueryException`, "message")}, nil, nil),
			th: check.Thresholds{MaxPending: 10}, wantStatus: check.Critical,
			wantLine: "SEQWATCH CRITICAL - 1 failed operation (NAME: QueryException: message) | failed=1 pending=3;10 in_progress=0 stuck=0 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=0 scheduled=0 rolled_back=0",
		},
		{
			name: "critical_counts_operations_not_rows_and_uses_newest", snap: snapshot(0, []check.Failure{
				failure("9", opA, 5, "RuntimeException", "newest"),
				failure("8", opA, 2, "RuntimeException", "older"),
			}, nil, nil),
			wantStatus: check.Critical,
			wantLine:   "SEQWATCH CRITICAL - 1 failed operation (" + opA + ": RuntimeException: newest) | failed=1 pending=0 in_progress=0 stuck=0 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=0 scheduled=0 rolled_back=0",
		},
		{
			name: "critical_lists_three_and_counts_the_rest", snap: snapshot(0, []check.Failure{
				failure("5", "op5", 5, "E", "m5"), failure("4", "op4", 4, "E", "m4"), failure("3", "op3", 3, "", ""),
				failure("2", "op2", 2, "E", "m2"), failure("1", "op1", 1, "E", "m1"),
			}, nil, nil),
			wantStatus: check.Critical,
			wantLine:   "SEQWATCH CRITICAL - 5 failed operations (op5: E: m5 / op4: E: m4 / op3: no error recorded (SEQUENCER_RECORD_ERRORS may be off) / and 2 more) | failed=5 pending=0 in_progress=0 stuck=0 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=0 scheduled=0 rolled_back=0",
		},
		{
			name: "critical_deferred_exhausted", snap: snapshot(0, nil, nil, []check.DeferredFailure{{ID: "1", Operation: `App\Operations\SendMail`, Attempts: 3, MaxAttempts: 3, LastError: "SMTP timeout"}}),
			wantStatus: check.Critical,
			wantLine:   `SEQWATCH CRITICAL - 1 deferred operation out of attempts (App\Operations\SendMail: SMTP timeout) | failed=0 pending=0 in_progress=0 stuck=0 pending_migrations=0 completed=0 deferred_failed=1 unreadable_rows=0 scheduled=0 rolled_back=0`,
		},
		{
			name: "critical_outranks_warning", snap: snapshot(20, []check.Failure{failure("1", opA, 0, "E", "boom")}, []check.Attempt{running(opB, 3*time.Hour)}, nil),
			th: check.Thresholds{MaxPending: 10, StuckAfter: time.Hour}, wantStatus: check.Critical,
			wantLine: "SEQWATCH CRITICAL - 1 failed operation (" + opA + ": E: boom) -- 20 pending operations (more than 10) -- 1 operation in progress longer than 1h00m (" + opB + " running for 3h00m) | failed=1 pending=20;10 in_progress=1 stuck=1 pending_migrations=0 completed=0 deferred_failed=0 unreadable_rows=0 scheduled=0 rolled_back=0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := check.Judge(tc.snap, tc.th)
			if v.Status != tc.wantStatus || v.Code != int(tc.wantStatus) {
				t.Errorf("status %v (code %d), want %v", v.Status, v.Code, tc.wantStatus)
			}
			if tc.wantLine != "" && v.Line() != tc.wantLine {
				t.Errorf("Line() =\n%s\nwant\n%s", v.Line(), tc.wantLine)
			}
			if v.App != "shop" || !v.TakenAt.Equal(baseNow) {
				t.Errorf("app %q, taken at %v", v.App, v.TakenAt)
			}
		})
	}
}

// TestJudgeHostileTextCannotBreakPerfdata: whatever the database holds, the
// plugin line is one line with exactly one '|', before the perfdata.
func TestJudgeHostileTextCannotBreakPerfdata(t *testing.T) {
	hostile := "a | b=1;2;3 \n| c\r\nSEQWATCH OK - fake\x1b[2K\u2028\u0085"
	tests := []struct {
		name string
		snap *check.Snapshot
		th   check.Thresholds
	}{
		{"message", snapshot(0, []check.Failure{failure("1", opA, 0, "E", hostile)}, nil, nil), check.Thresholds{}},
		{"exception_class", snapshot(0, []check.Failure{failure("1", opA, 0, `App\`+hostile, "m")}, nil, nil), check.Thresholds{}},
		{"operation_name", snapshot(0, []check.Failure{failure("1", "2024_01_01_000000_"+hostile, 0, "E", "m")}, nil, nil), check.Thresholds{}},
		{"stuck_operation_name", snapshot(0, nil, []check.Attempt{running("2024_01_01_000000_"+hostile, 2*time.Hour)}, nil), check.Thresholds{StuckAfter: time.Hour}},
		{"deferred", snapshot(0, nil, nil, []check.DeferredFailure{{Operation: hostile, LastError: hostile}}), check.Thresholds{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line := check.Judge(tc.snap, tc.th).Line()
			if n := strings.Count(line, "|"); n != 1 {
				t.Errorf("line has %d '|', want 1: %q", n, line)
			}
			summary, perf, _ := strings.Cut(line, " | ")
			wantOneSafeLine(t, summary)
			if !strings.HasPrefix(perf, "failed=") || strings.ContainsAny(perf, "\n\r") {
				t.Errorf("perfdata %q", perf)
			}
		})
	}
}

// TestJudgeSeparatorsSurviveNagios: the separators seqwatch puts between
// problems and between failing operations are characters that Nagios and
// Icinga 2 pass unchanged (no ';', which Nagios turns into ':', none of
// Nagios's illegal_macro_output_chars), and hostile text can neither add a
// '|' nor turn into a link that was not in the database.
func TestJudgeSeparatorsSurviveNagios(t *testing.T) {
	hostile := []string{
		"<https://evil.example|click>",
		"see https://evil.example|https://bank.example/login",
		"a; b; c",
		"`rm -rf /` $(id) & ~ \"' <b>",
		"x\u200b|\u202ey",
	}
	var fs []check.Failure
	for i, h := range hostile {
		fs = append(fs, failure(fmt.Sprint(i+1), fmt.Sprintf("2024_01_01_00000%d_Op", i), i, `App\Exceptions\`+h, h))
	}
	snap := snapshot(20, fs, []check.Attempt{running(opB, 3*time.Hour)}, []check.DeferredFailure{{Operation: hostile[0], LastError: hostile[1]}})
	snap.Counts.DeferredExhausted = 1
	v := check.Judge(snap, check.Thresholds{MaxPending: 10, StuckAfter: time.Hour})
	summary, _, _ := strings.Cut(v.Line(), " | ")
	wantOneSafeLine(t, summary)
	if strings.Count(v.Line(), "|") != 1 {
		t.Errorf("line has more than the perfdata '|': %q", v.Line())
	}
	for _, forged := range []string{"evil.example/click", "evil.example|", "evil.example/https:"} {
		if strings.Contains(summary, forged) {
			t.Errorf("summary holds %q, a link the database did not hold: %q", forged, summary)
		}
	}
	// Our own separators: exactly one between each pair of problems and of
	// listed failures, and none of them is rewritten by Nagios.
	for _, sep := range []string{check.ProblemSeparator, check.ItemSeparator} {
		if strings.ContainsAny(sep, ";|`~$&'\"<>") {
			t.Errorf("separator %q holds a character Nagios rewrites or strips", sep)
		}
	}
	if got := strings.Count(summary, check.ProblemSeparator); got != 3 {
		t.Errorf("%d problem separators, want 3 (failed, deferred, pending, stuck): %q", got, summary)
	}
	if len(v.Problems) != 4 || !strings.Contains(v.Problems[0], check.ItemSeparator) {
		t.Errorf("problems %q", v.Problems)
	}
	// Without the database's own ';', the line has none: Nagios would rewrite it.
	if strings.Contains(strings.ReplaceAll(summary, "a; b; c", ""), ";") {
		t.Errorf("seqwatch itself put a ';' in the line: %q", summary)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Second, "45s"},
		{12*time.Minute + 3*time.Second, "12m03s"},
		{3*time.Hour + 5*time.Minute, "3h05m"},
		{52 * time.Hour, "2d04h"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := check.HumanDuration(tc.d); got != tc.want {
				t.Errorf("HumanDuration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestUnknownVerdict(t *testing.T) {
	v := check.UnknownVerdict(&check.ConfigError{Err: errors.New("unknown time zone \"Mars\"\nsecond line")})
	if v.Status != check.Unknown || v.Code != 3 {
		t.Errorf("status %v code %d", v.Status, v.Code)
	}
	if want := `SEQWATCH UNKNOWN - configuration: unknown time zone "Mars" second line`; v.Line() != want {
		t.Errorf("Line() = %q, want %q", v.Line(), want)
	}
}
