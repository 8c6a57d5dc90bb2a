package reader_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/check"
	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/errtest"
	"github.com/seqwatch/seqwatch/internal/laravel"
	"github.com/seqwatch/seqwatch/internal/reader"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// idTypes are Sequencer's primary key types (SEQUENCER_PRIMARY_KEY_TYPE).
var idTypes = []string{"id", "ulid", "uuid"}

// secret is a password that must never appear in an error message.
const secret = "hunter2-Sekr3t"

// baseNow is the instant snapshots are taken at, unless a test says
// otherwise.
var baseNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// app is one Laravel application on disk with its database, ready to read.
type app struct {
	d      dbtest.Dialect
	db     *dbtest.DB
	schema dbtest.Schema
	dir    string
}

// newApp creates a database with Sequencer's tables (as schema says) and a
// Laravel application in a temporary directory whose .env points at it.
func newApp(t *testing.T, d dbtest.Dialect, schema dbtest.Schema, files dbtest.AppFiles) *app {
	t.Helper()
	db := dbtest.NewDatabase(t, d)
	dbtest.CreateSchema(t, db, schema)
	dir := t.TempDir()
	dbtest.WriteApp(t, dir, db, files)
	return &app{d: d, db: db, schema: schema, dir: dir}
}

// resolve resolves the application's settings (AppDir plus extra).
func (a *app) resolve(t *testing.T, s laravel.Settings) laravel.Source {
	t.Helper()
	s.AppDir = a.dir
	src, err := laravel.Resolve(s)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return src
}

// read resolves the application, opens its database and reads a snapshot.
func (a *app) read(t *testing.T, now time.Time, opt reader.ReadOptions) *check.Snapshot {
	t.Helper()
	snap, err := a.tryRead(t, laravel.Settings{}, now, opt)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return snap
}

// tryRead is read with settings, returning the error of Open or Read.
func (a *app) tryRead(t *testing.T, s laravel.Settings, now time.Time, opt reader.ReadOptions) (*check.Snapshot, error) {
	t.Helper()
	src := a.resolve(t, s)
	return openAndRead(t, src, now, opt)
}

func openAndRead(t *testing.T, src laravel.Source, now time.Time, opt reader.ReadOptions) (*check.Snapshot, error) {
	t.Helper()
	ctx := context.Background()
	db, err := reader.Open(ctx, src.Conn)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { db.Close() })
	return reader.Read(ctx, db, src, now, opt)
}

// forEachDB runs f as a parallel sub-test per dialect and id type, named
// dialect/idtype.
func forEachDB(t *testing.T, f func(t *testing.T, d dbtest.Dialect, idType string)) {
	t.Helper()
	for _, d := range dbtest.All {
		for _, idType := range idTypes {
			t.Run(string(d)+"/"+idType, func(t *testing.T) {
				t.Parallel()
				f(t, d, idType)
			})
		}
	}
}

// writeFile writes content to dir/rel, creating directories.
func writeFile(t *testing.T, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// errorKind names the seqwatch error type err is, or "other".
func errorKind(err error) string {
	var se *reader.SourceError
	var sch *reader.SchemaError
	var ce *check.ConfigError
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &sch):
		return "schema"
	case errors.As(err, &ce):
		return "config"
	case errors.As(err, &se):
		return "source"
	}
	return "other"
}

// checkError asserts err's kind, that its message names every want
// fragment, that it holds no secret, and that it is a fact (errtest.Message).
func checkError(t *testing.T, err error, kind string, want []string, secrets ...string) {
	t.Helper()
	if got := errorKind(err); got != kind {
		t.Fatalf("error kind = %s, want %s (error: %v)", got, kind, err)
	}
	errtest.Message(t, err.Error(), want, secrets...)
}

// checkReason asserts the Reason of err's ConfigError or SourceError.
func checkReason(t *testing.T, err error, want check.Reason) {
	t.Helper()
	var ce *check.ConfigError
	var se *reader.SourceError
	got := check.OtherReason
	switch {
	case errors.As(err, &ce):
		got = ce.Reason
	case errors.As(err, &se):
		got = se.Reason
	}
	if got != want {
		t.Errorf("reason = %d, want %d (error: %v)", got, want, err)
	}
}

// opNames returns the names of attempts.
func opNames[T any](items []T, name func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

func pendingNames(fs []check.PendingFile) []string {
	return opNames(fs, func(f check.PendingFile) string { return f.Name })
}

func failureIDs(fs []check.Failure) []string {
	return opNames(fs, func(f check.Failure) string { return f.ID })
}

// withHistory reads src as `status` does: the snapshot, then the streamed
// history lists (reader.History) and their counts, into one Snapshot for
// the scenarios to compare.
func withHistory(t *testing.T, src laravel.Source, now time.Time, opt reader.ReadOptions, traces bool) (*check.Snapshot, error) {
	t.Helper()
	ctx := context.Background()
	db, err := reader.Open(ctx, src.Conn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	snap, err := reader.Read(ctx, db, src, now, opt)
	if err != nil {
		return nil, err
	}
	h, err := reader.OpenHistory(ctx, db, src)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	snap.Completed, snap.Failed = []check.Attempt{}, []check.Failure{}
	if err := h.Completed(ctx, func(a *check.Attempt) error {
		snap.Completed = append(snap.Completed, *a)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := h.Failed(ctx, traces, func(f *check.Failure) error {
		c := *f
		c.Errors = append([]check.ErrorRecord{}, f.Errors...)
		snap.Failed = append(snap.Failed, c)
		return nil
	}); err != nil {
		return nil, err
	}
	if snap.Counts.Rows, err = h.Rows(ctx); err != nil {
		return nil, err
	}
	snap.Counts.CompletedRows, snap.Counts.FailedRows = len(snap.Completed), len(snap.Failed)
	return snap, nil
}
