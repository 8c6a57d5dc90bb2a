package dbtest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/oklog/ulid/v2"
)

// Op is one row of the operations table, with its error rows.
type Op struct {
	// ID is the row's id; "" generates one: the auto-increment value for
	// IDType "id", a new ULID or UUID (version 7, time-ordered like
	// Laravel's) otherwise.
	ID   string
	Name string
	// Type defaults to "sync".
	Type string
	// State defaults to what the time stamps say: rolled_back, skipped,
	// failed, completed, or pending when none is set.
	State string
	// ActorType and ActorID fill the nullable actor morph; "" = NULL.
	ActorType, ActorID string
	// Time stamps are wall-clock "2006-01-02 15:04:05" values, as Laravel
	// writes them; "" = NULL. ExecutedAt is required (NOT NULL).
	ExecutedAt, CompletedAt, FailedAt, SkippedAt, RolledBackAt string
	SkipReason                                                 string
	Errors                                                     []Err
}

// Err is one row of the operation_errors table.
type Err struct {
	Exception, Message, Trace string
	// Context is JSON, or "" for NULL.
	Context string
	// CreatedAt defaults to the operation's FailedAt, or else its
	// ExecutedAt.
	CreatedAt string
}

// Deferred is one row of the deferred_operations table. Zero values take
// the column defaults (status pending, attempts 0, max_attempts 3); empty
// time stamps and texts are NULL.
type Deferred struct {
	// ID as in Op.
	ID        string
	Operation string
	// Payload is JSON, or "" for NULL.
	Payload string
	// DueAt is required (NOT NULL).
	DueAt       string
	Status      string
	Attempts    int
	MaxAttempts int
	ReservedAt  string
	ProcessedAt string
	FailedAt    string
	LastError   string
	// CreatedAt defaults to DueAt.
	CreatedAt string
}

// null maps "" to SQL NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Rebind turns ? placeholders into PostgreSQL's $1, $2, ... (outside
// quoted literals and identifiers); other dialects get q unchanged.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Quote quotes a table or column name for db's dialect.
func (db *DB) Quote(ident string) string { return db.Dialect.Quote(ident) }

// Exec runs one statement with ? placeholders (rebound for PostgreSQL) and
// fails the test on error.
func (db *DB) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := db.SQL.Exec(db.Rebind(query), args...); err != nil {
		t.Fatalf("dbtest: exec: %v\n%s", err, query)
	}
}

// newID returns a fresh ULID or UUID for idType, or "" for auto-increment.
func newID(idType string) string {
	switch idType {
	case "ulid":
		return ulid.Make().String()
	case "uuid":
		return uuid.Must(uuid.NewV7()).String()
	}
	return ""
}

// insertRow inserts one row and returns its id: the given one, or the
// auto-increment value when id is "".
func (db *DB) insertRow(t testing.TB, tableName, id string, cols []string, vals []any) string {
	t.Helper()
	if id != "" {
		cols = append([]string{"id"}, cols...)
		vals = append([]any{id}, vals...)
	}
	qs := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		qs[i] = db.Quote(c)
		marks[i] = "?"
	}
	q := "insert into " + db.Quote(tableName) + " (" + strings.Join(qs, ", ") + ") values (" + strings.Join(marks, ", ") + ")"
	if id != "" {
		if _, err := db.SQL.Exec(db.Rebind(q), vals...); err != nil {
			t.Fatalf("dbtest: insert into %s: %v", tableName, err)
		}
		return id
	}
	if db.Dialect == Postgres {
		var got int64
		if err := db.SQL.QueryRow(db.Rebind(q+" returning "+db.Quote("id")), vals...).Scan(&got); err != nil {
			t.Fatalf("dbtest: insert into %s: %v", tableName, err)
		}
		return strconv.FormatInt(got, 10)
	}
	res, err := db.SQL.Exec(q, vals...)
	if err != nil {
		t.Fatalf("dbtest: insert into %s: %v", tableName, err)
	}
	got, err := res.LastInsertId()
	if err != nil {
		t.Fatalf("dbtest: insert into %s: last insert id: %v", tableName, err)
	}
	return strconv.FormatInt(got, 10)
}

// syncSequence moves a PostgreSQL serial past explicitly inserted ids, so
// later generated ids do not collide with them.
func (db *DB) syncSequence(t testing.TB, tableName string) {
	t.Helper()
	if db.Dialect != Postgres {
		return
	}
	q := "select setval(pg_get_serial_sequence($1, 'id'), (select max(id) from " + db.Quote(tableName) + "))"
	if _, err := db.SQL.Exec(q, db.Quote(tableName)); err != nil {
		t.Fatalf("dbtest: sync sequence of %s: %v", tableName, err)
	}
}

// InsertOps inserts operations rows and their error rows and returns the
// operations' ids as strings, in order.
func (db *DB) InsertOps(t testing.TB, s Schema, ops ...Op) []string {
	t.Helper()
	s = s.WithDefaults()
	ids := make([]string, 0, len(ops))
	for _, op := range ops {
		explicit := false
		if op.ExecutedAt == "" {
			t.Fatalf("dbtest: InsertOps: operation %q has no ExecutedAt (NOT NULL)", op.Name)
		}
		id := op.ID
		if id == "" {
			id = newID(s.IDType)
		} else if s.IDType == "id" {
			explicit = true
		}
		typ := op.Type
		if typ == "" {
			typ = "sync"
		}
		state := op.State
		updated := op.ExecutedAt
		if state == "" {
			state = "pending"
		}
		for _, st := range []struct{ at, state string }{
			{op.CompletedAt, "completed"}, {op.FailedAt, "failed"},
			{op.SkippedAt, "skipped"}, {op.RolledBackAt, "rolled_back"},
		} {
			if st.at == "" {
				continue
			}
			if op.State == "" {
				state = st.state
			}
			if st.at > updated {
				updated = st.at
			}
		}
		id = db.insertRow(t, s.Operations, id,
			[]string{"name", "type", "state", "actor_type", "actor_id", "executed_at", "completed_at",
				"failed_at", "skipped_at", "skip_reason", "rolled_back_at", "created_at", "updated_at"},
			[]any{op.Name, typ, state, null(op.ActorType), null(op.ActorID), op.ExecutedAt, null(op.CompletedAt),
				null(op.FailedAt), null(op.SkippedAt), null(op.SkipReason), null(op.RolledBackAt), op.ExecutedAt, updated})
		if explicit {
			db.syncSequence(t, s.Operations)
		}
		ids = append(ids, id)
		for _, e := range op.Errors {
			created := e.CreatedAt
			if created == "" {
				created = op.FailedAt
			}
			if created == "" {
				created = op.ExecutedAt
			}
			db.insertRow(t, s.Errors, newID(s.IDType),
				[]string{"operation_id", "exception", "message", "trace", "context", "created_at", "updated_at"},
				[]any{id, e.Exception, e.Message, e.Trace, null(e.Context), created, created})
		}
	}
	return ids
}

// InsertMigrations records migrations as run, all in batch 1. Names are
// stored as given (Laravel stores them without ".php").
func (db *DB) InsertMigrations(t testing.TB, s Schema, names ...string) {
	t.Helper()
	s = s.WithDefaults()
	for _, n := range names {
		db.insertRow(t, s.Migrations, "", []string{"migration", "batch"}, []any{n, 1})
	}
}

// InsertDeferred inserts deferred_operations rows and returns their ids.
func (db *DB) InsertDeferred(t testing.TB, s Schema, rows ...Deferred) []string {
	t.Helper()
	s = s.WithDefaults()
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		explicit := false
		if r.DueAt == "" {
			t.Fatalf("dbtest: InsertDeferred: row %q has no DueAt (NOT NULL)", r.Operation)
		}
		id := r.ID
		if id == "" {
			id = newID(s.IDType)
		} else if s.IDType == "id" {
			explicit = true
		}
		status := r.Status
		if status == "" {
			status = "pending"
		}
		maxAttempts := r.MaxAttempts
		if maxAttempts == 0 {
			maxAttempts = 3
		}
		created := r.CreatedAt
		if created == "" {
			created = r.DueAt
		}
		id = db.insertRow(t, s.Deferred, id,
			[]string{"operation", "payload", "due_at", "status", "attempts", "max_attempts", "reserved_at",
				"processed_at", "failed_at", "last_error", "created_at", "updated_at"},
			[]any{r.Operation, null(r.Payload), r.DueAt, status, r.Attempts, maxAttempts, null(r.ReservedAt),
				null(r.ProcessedAt), null(r.FailedAt), null(r.LastError), created, created})
		if explicit {
			db.syncSequence(t, s.Deferred)
		}
		ids = append(ids, id)
	}
	return ids
}

// SetRaw stores value (any driver value: text, a float, nil) in column of
// the row of table with id, as it is, for tests of values Laravel never
// writes but a database may hold: MySQL's zero date (the session's
// sql_mode is relaxed for the one statement, as an old server or a
// careless import would have it), PostgreSQL's infinity, text or a REAL
// in SQLite's time stamp columns.
func (db *DB) SetRaw(t testing.TB, table, id, column string, value any) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatalf("dbtest: SetRaw: %v", err)
	}
	defer conn.Close()
	if db.Dialect == MySQL {
		if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''"); err != nil {
			t.Fatalf("dbtest: SetRaw: relax sql_mode: %v", err)
		}
		// The connection goes back to the pool: put the server's default back.
		defer conn.ExecContext(ctx, "SET SESSION sql_mode = DEFAULT")
	}
	q := "update " + db.Quote(table) + " set " + db.Quote(column) + " = ? where " + db.Quote("id") + " = ?"
	res, err := conn.ExecContext(ctx, db.Rebind(q), value, id)
	if err != nil {
		t.Fatalf("dbtest: SetRaw %s.%s of row %s to %v: %v", table, column, id, value, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("dbtest: SetRaw %s.%s of row %s: %d rows changed (%v)", table, column, id, n, err)
	}
}

// ErrorIDs returns the ids of the error rows of the operation row opID,
// oldest first.
func (db *DB) ErrorIDs(t testing.TB, s Schema, opID string) []string {
	t.Helper()
	s = s.WithDefaults()
	cast := "CAST(id AS TEXT)"
	if db.Dialect == MySQL {
		cast = "CAST(id AS CHAR)"
	}
	rows, err := db.SQL.Query(db.Rebind("select "+cast+" from "+db.Quote(s.Errors)+" where operation_id = ? order by id"), opID)
	if err != nil {
		t.Fatalf("dbtest: ErrorIDs: %v", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatalf("dbtest: ErrorIDs: %v", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("dbtest: ErrorIDs: %v", err)
	}
	return ids
}
