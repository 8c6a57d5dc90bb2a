package check

import "time"

// KeepSince leaves in s the runs that started at or after since (in
// progress, failing, scheduled, rolled back), with their counts: what
// `seqwatch status --since` shows. The failing count is of operations, as
// Read counts it, so an operation that failed twice since counts once.
// The history lists (Completed, Failed) are filtered where they are read,
// a row at a time, and are left as they are.
func (s *Snapshot) KeepSince(since time.Time) {
	s.InProgress = startedSince(s.InProgress, since, func(a Attempt) time.Time { return a.ExecutedAt })
	s.Failing = startedSince(s.Failing, since, func(f Failure) time.Time { return f.ExecutedAt })
	s.Scheduled = startedSince(s.Scheduled, since, func(a Attempt) time.Time { return a.ExecutedAt })
	s.RolledBack = startedSince(s.RolledBack, since, func(r RolledBackRun) time.Time { return r.ExecutedAt })
	names := map[string]bool{}
	for _, f := range s.Failing {
		names[f.Name] = true
	}
	s.Counts.InProgress, s.Counts.Failing = len(s.InProgress), len(names)
	s.Counts.Scheduled, s.Counts.RolledBack = len(s.Scheduled), len(s.RolledBack)
}

// startedSince keeps, in place and in order, the runs of xs that started
// at or after since.
func startedSince[T any](xs []T, since time.Time, started func(T) time.Time) []T {
	kept := xs[:0]
	for _, x := range xs {
		if !started(x).Before(since) {
			kept = append(kept, x)
		}
	}
	return kept
}
