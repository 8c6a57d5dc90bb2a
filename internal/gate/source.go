package gate

import (
	"context"
	"path/filepath"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

// DBSource reads an application's database and files: the Source of a
// real wait. It keeps the incremental read's mark between polls.
type DBSource struct {
	DB  *reader.DB
	App laravel.Source
	// Now is the clock of the pending read (its TakenAt); nil: time.Now.
	Now func() time.Time

	mark      *reader.RunsMark
	scheduled map[string]bool
}

// Open connects to src's database for a whole wait, within
// src.Conn.Timeout (0: reader.DefaultTimeout), which also bounds each
// read; the connection is kept between polls. now is the clock of the
// pending read (nil: time.Now). Close closes it.
func Open(ctx context.Context, src laravel.Source, now func() time.Time) (*DBSource, error) {
	within := src.Conn.Timeout
	if within <= 0 {
		within = reader.DefaultTimeout
	}
	octx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	db, err := reader.Open(octx, src.Conn)
	if err != nil {
		return nil, err
	}
	return &DBSource{DB: db, App: src, Now: now}, nil
}

// Close closes the connection.
func (s *DBSource) Close() error { return s.DB.Close() }

// Runs reads what changed since the last poll and returns every run since
// since.
func (s *DBSource) Runs(ctx context.Context, since time.Time, recheck []string) ([]reader.Run, error) {
	_, mark, err := reader.ReadRuns(ctx, s.DB, s.App, since, s.mark, recheck)
	if err != nil {
		return nil, err
	}
	s.mark = mark
	return mark.Runs(), nil
}

// Pending reads the operation files with no completed run (a probe per
// file, as `status --pending` reads them).
func (s *DBSource) Pending(ctx context.Context) ([]check.PendingFile, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	snap, err := reader.Read(ctx, s.DB, s.App, now(), reader.ReadOptions{SkipProblems: true})
	if err != nil {
		return nil, err
	}
	return snap.PendingOperations, nil
}

// WaitsForTime reports whether the operation's file, in one of the
// discovery paths, implements Sequencer's Scheduled contract
// (laravel.ImplementsScheduled). Each file is read once.
func (s *DBSource) WaitsForTime(name string) bool {
	if v, ok := s.scheduled[name]; ok {
		return v
	}
	if s.scheduled == nil {
		s.scheduled = map[string]bool{}
	}
	v := false
	for _, dir := range s.App.OperationPaths {
		if ok, err := laravel.ImplementsScheduled(filepath.Join(dir, name+".php")); err == nil {
			v = ok
			break
		}
	}
	s.scheduled[name] = v
	return v
}
