package dbtest_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/joho/godotenv"
	"github.com/oklog/ulid/v2"

	"github.com/seqwatch/seqwatch/internal/dbtest"
	"github.com/seqwatch/seqwatch/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// asText is a SQL expression that reads col as text on d, so values come
// back as the database holds them rather than as the driver parses them.
func asText(d dbtest.Dialect, col string) string {
	switch d {
	case dbtest.Postgres:
		return col + "::text"
	case dbtest.MySQL:
		return "cast(" + col + " as char)"
	}
	return "cast(" + col + " as text)"
}

// awkwardMessage is everything an exception message may carry that is
// still valid UTF-8.
const awkwardMessage = "SQLSTATE[23505]: Unique violation\r\nDETAIL: Key (email)=(a@b.c) already exists.\n" +
	"<!channel> <@U123> *bold* `code` <b>html</b> 'single' \"double\" \\backslash\\ ${VAR}\n" +
	"ünïcødé 日本語 🚀\ttab\x00\x01 nul and control bytes"

// bigTrace is a ~300 KB PHP getTraceAsString() trace.
func bigTrace() string {
	var b strings.Builder
	for i := 0; b.Len() < 300*1024; i++ {
		fmt.Fprintf(&b, "#%d /app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(%d): Illuminate\\Database\\Connection->runQueryCallback('insert into \"u...', Array, Object(Closure))\n", i, 800+i)
	}
	b.WriteString("#9999 {main}")
	return b.String()
}

func TestRoundTrip(t *testing.T) {
	trace := bigTrace()
	const ctxJSON = `{"file": "/app/database/operations/2024_01_15_130000_NotifyUsers.php", "line": 42, "code": "23505", "nested": {"b": 1, "a": [1, 2]}}`
	for _, d := range dbtest.All {
		for _, idType := range []string{"id", "ulid", "uuid"} {
			t.Run(string(d)+"/"+idType, func(t *testing.T) {
				t.Parallel()
				db := dbtest.NewDatabase(t, d)
				s := dbtest.Schema{IDType: idType, WithDeferred: true}
				dbtest.CreateSchema(t, db, s)

				// NUL bytes: PostgreSQL text cannot hold them at all, and
				// no PHP exception message reaching it could have them.
				msg := awkwardMessage
				if d == dbtest.Postgres {
					msg = strings.ReplaceAll(msg, "\x00", "")
				}
				ids := db.InsertOps(t, s,
					dbtest.Op{
						Name: "2024_01_15_130000_NotifyUsers", Type: "async",
						ExecutedAt: "2024-01-15 13:00:00", FailedAt: "2024-01-15 13:00:05",
						Errors: []dbtest.Err{
							{Exception: `Illuminate\Database\QueryException`, Message: msg, Trace: trace, Context: ctxJSON},
							{Exception: `RuntimeException`, Message: "second", Trace: "#0 {main}", CreatedAt: "2024-01-15 13:00:06"},
						},
					},
					dbtest.Op{Name: "2024_01_15_130000_NotifyUsers.php", ExecutedAt: "2024-01-15 14:00:00", CompletedAt: "2024-01-15 14:00:01"},
					dbtest.Op{Name: "2024_02_01_000000_Backfill", ExecutedAt: "2024-03-31 02:30:00", ActorType: `App\Models\User`, ActorID: "7"},
				)
				checkIDs(t, idType, ids)

				type opRow struct{ id, name, typ, state, executed, completed, failed, actorType, actorID string }
				rows, err := db.SQL.Query(fmt.Sprintf(
					"select %s, name, type, state, %s, coalesce(%s, ''), coalesce(%s, ''), coalesce(actor_type, ''), coalesce(%s, '') from operations order by executed_at",
					asText(d, "id"), asText(d, "executed_at"), asText(d, "completed_at"), asText(d, "failed_at"), asText(d, "actor_id")))
				if err != nil {
					t.Fatal(err)
				}
				var got []opRow
				for rows.Next() {
					var r opRow
					if err := rows.Scan(&r.id, &r.name, &r.typ, &r.state, &r.executed, &r.completed, &r.failed, &r.actorType, &r.actorID); err != nil {
						t.Fatal(err)
					}
					got = append(got, r)
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				want := []opRow{
					{ids[0], "2024_01_15_130000_NotifyUsers", "async", "failed", "2024-01-15 13:00:00", "", "2024-01-15 13:00:05", "", ""},
					{ids[1], "2024_01_15_130000_NotifyUsers.php", "sync", "completed", "2024-01-15 14:00:00", "2024-01-15 14:00:01", "", "", ""},
					// A wall-clock time that does not exist in Europe's
					// spring-forward gap survives unchanged.
					{ids[2], "2024_02_01_000000_Backfill", "sync", "pending", "2024-03-31 02:30:00", "", "", `App\Models\User`, "7"},
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("operations rows:\n got %q\nwant %q", got, want)
				}

				type errRow struct{ exception, message, trace, created string }
				var ctx sql.NullString
				var e errRow
				err = db.SQL.QueryRow(db.Rebind(fmt.Sprintf("select exception, message, trace, %s, %s from operation_errors where operation_id = ? and exception = ?",
					asText(d, "context"), asText(d, "created_at"))), ids[0], `Illuminate\Database\QueryException`).
					Scan(&e.exception, &e.message, &e.trace, &ctx, &e.created)
				if err != nil {
					t.Fatal(err)
				}
				if e.message != msg {
					t.Errorf("message changed:\n got %q\nwant %q", e.message, msg)
				}
				if e.trace != trace {
					t.Errorf("trace changed: got %d bytes, want %d", len(e.trace), len(trace))
				}
				if e.created != "2024-01-15 13:00:05" {
					t.Errorf("error created_at = %q, want the operation's failed_at", e.created)
				}
				checkContext(t, d, ctx, ctxJSON)

				var n int
				if err := db.SQL.QueryRow(db.Rebind("select count(*) from operation_errors where operation_id = ?"), ids[0]).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 2 {
					t.Errorf("errors of the failed row = %d, want 2", n)
				}
			})
		}
	}
}

func checkIDs(t *testing.T, idType string, ids []string) {
	t.Helper()
	if len(ids) != 3 {
		t.Fatalf("got %d ids, want 3", len(ids))
	}
	for i, id := range ids {
		var err error
		switch idType {
		case "id":
			if want := fmt.Sprint(i + 1); id != want {
				err = fmt.Errorf("want %s", want)
			}
		case "ulid":
			_, err = ulid.ParseStrict(id)
		case "uuid":
			_, err = uuid.Parse(id)
		}
		if err != nil {
			t.Errorf("id %d = %q: %v", i, id, err)
		}
	}
}

// checkContext compares context JSON: byte for byte where the column keeps
// text (SQLite, MariaDB), as JSON where jsonb normalises it (PostgreSQL).
func checkContext(t *testing.T, d dbtest.Dialect, got sql.NullString, want string) {
	t.Helper()
	if !got.Valid {
		t.Fatal("context is NULL")
	}
	if d != dbtest.Postgres {
		if got.String != want {
			t.Errorf("context changed:\n got %s\nwant %s", got.String, want)
		}
		return
	}
	if got.String == want {
		t.Errorf("jsonb kept the text as is (%s): update the package doc, which says it normalises", got.String)
	}
	var g, w any
	if err := json.Unmarshal([]byte(got.String), &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("context changed:\n got %s\nwant %s", got.String, want)
	}
}

func TestInvalidUTF8(t *testing.T) {
	const msg = "bad bytes: \xff\xfe\xc3\x28 end"
	tests := []struct {
		d       dbtest.Dialect
		rejects bool
	}{
		{dbtest.SQLite, false},
		{dbtest.Postgres, true},
		{dbtest.MySQL, true},
	}
	for _, tc := range tests {
		name := string(tc.d) + "/stores as is"
		if tc.rejects {
			name = string(tc.d) + "/rejects"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := dbtest.NewDatabase(t, tc.d)
			s := dbtest.Schema{}
			dbtest.CreateSchema(t, db, s)
			ids := db.InsertOps(t, s, dbtest.Op{Name: "2024_01_01_000000_A", ExecutedAt: "2024-01-01 00:00:00", FailedAt: "2024-01-01 00:00:01"})
			_, err := db.SQL.Exec(db.Rebind("insert into operation_errors (operation_id, exception, message, trace) values (?, 'E', ?, ?)"), ids[0], msg, msg)
			if !tc.rejects {
				if err != nil {
					t.Fatal(err)
				}
				var got []byte
				if err := db.SQL.QueryRow("select message from operation_errors").Scan(&got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, []byte(msg)) {
					t.Errorf("message = %q, want %q", got, msg)
				}
				return
			}
			var pgErr *pgconn.PgError
			var myErr *mysql.MySQLError
			switch {
			case err == nil:
				t.Fatal("insert of invalid UTF-8 succeeded; update the package doc")
			case errors.As(err, &pgErr) && pgErr.Code == "22021":
			case errors.As(err, &myErr) && myErr.Number == 1366:
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		})
	}
}

func TestWrongPasswordFails(t *testing.T) {
	for _, d := range []dbtest.Dialect{dbtest.Postgres, dbtest.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := dbtest.NewDatabase(t, d)
			bad := *db
			bad.Password = db.Password + "x"
			driver, dsn := bad.DSN()
			pool, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			err = pool.Ping()
			if err == nil {
				t.Fatal("login with a wrong password succeeded")
			}
			var pgErr *pgconn.PgError
			var myErr *mysql.MySQLError
			switch {
			case errors.As(err, &pgErr) && pgErr.Code == "28P01": // invalid_password
			case errors.As(err, &myErr) && myErr.Number == 1045: // access denied
			default:
				t.Fatalf("want an authentication error, got %v", err)
			}
			// And the right password works through the same path.
			good, _ := sql.Open(db.DSN())
			defer good.Close()
			if err := good.Ping(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// indexesOn lists the index names covering table.column.
func indexesOn(t *testing.T, db *dbtest.DB, table, column string) []string {
	t.Helper()
	var q string
	switch db.Dialect {
	case dbtest.Postgres:
		q = `select i.relname from pg_index x
			join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
			join pg_attribute a on a.attrelid = c.oid and a.attnum = any(x.indkey)
			where c.relname = $1 and a.attname = $2 order by 1`
	case dbtest.MySQL:
		q = `select index_name from information_schema.statistics
			where table_schema = database() and table_name = ? and column_name = ? order by 1`
	case dbtest.SQLite:
		q = `select il.name from pragma_index_list(?) il, pragma_index_info(il.name) ii where ii.name = ? order by 1`
	}
	rows, err := db.SQL.Query(q, table, column)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// columnType is the column's declared type as the database reports it.
func columnType(t *testing.T, db *dbtest.DB, table, column string) string {
	t.Helper()
	var q string
	switch db.Dialect {
	case dbtest.Postgres:
		q = `select format_type(a.atttypid, a.atttypmod) from pg_attribute a join pg_class c on c.oid = a.attrelid where c.relname = $1 and a.attname = $2`
	case dbtest.MySQL:
		q = `select column_type from information_schema.columns where table_schema = database() and table_name = ? and column_name = ?`
	case dbtest.SQLite:
		q = `select type from pragma_table_info(?) where name = ?`
	}
	var typ string
	if err := db.SQL.QueryRow(q, table, column).Scan(&typ); err != nil {
		t.Fatalf("type of %s.%s: %v", table, column, err)
	}
	return typ
}

func TestSchemaMatchesLaravel(t *testing.T) {
	tests := []struct {
		d      dbtest.Dialect
		idType string
		types  map[string]string // "table.column" -> type
		// fkIndex: whether operation_errors.operation_id ends up indexed.
		fkIndex bool
	}{
		{dbtest.Postgres, "id", map[string]string{
			"operations.id": "bigint", "operations.name": "character varying(255)",
			"operations.executed_at": "timestamp(0) without time zone", "operation_errors.context": "jsonb",
			"operation_errors.trace": "text", "deferred_operations.payload": "json", "migrations.id": "integer",
		}, false},
		{dbtest.Postgres, "uuid", map[string]string{"operations.id": "uuid", "operation_errors.operation_id": "uuid"}, false},
		{dbtest.Postgres, "ulid", map[string]string{"operations.id": "character(26)", "operation_errors.operation_id": "character(26)"}, false},
		{dbtest.MySQL, "id", map[string]string{
			"operations.id": "bigint(20) unsigned", "operations.name": "varchar(255)",
			"operations.executed_at": "timestamp", "operation_errors.context": "longtext",
			"operation_errors.trace": "longtext", "operation_errors.message": "text", "migrations.id": "int(10) unsigned",
		}, true},
		{dbtest.MySQL, "uuid", map[string]string{"operations.id": "char(36)", "operation_errors.operation_id": "char(36)"}, true},
		{dbtest.MySQL, "ulid", map[string]string{"operations.id": "char(26)"}, true},
		{dbtest.SQLite, "id", map[string]string{
			"operations.id": "integer", "operations.name": "varchar", "operations.executed_at": "datetime",
			"operation_errors.context": "text", "migrations.id": "integer",
		}, false},
		{dbtest.SQLite, "uuid", map[string]string{"operations.id": "varchar"}, false},
	}
	for _, tc := range tests {
		t.Run(string(tc.d)+"/"+tc.idType, func(t *testing.T) {
			t.Parallel()
			db := dbtest.NewDatabase(t, tc.d)
			s := dbtest.Schema{IDType: tc.idType, WithDeferred: true}
			dbtest.CreateSchema(t, db, s)
			for key, want := range tc.types {
				table, col, _ := strings.Cut(key, ".")
				got := columnType(t, db, table, col)
				if got != want && !(tc.d == dbtest.SQLite && strings.EqualFold(got, want)) {
					t.Errorf("%s: type %q, want %q", key, got, want)
				}
			}
			if got := indexesOn(t, db, "operation_errors", "operation_id"); (len(got) > 0) != tc.fkIndex {
				t.Errorf("indexes on operation_errors.operation_id = %q, want present=%v", got, tc.fkIndex)
			}
			for _, col := range []string{"name", "type", "executed_at"} {
				if got := indexesOn(t, db, "operations", col); len(got) == 0 {
					t.Errorf("operations.%s has no index", col)
				}
			}

			ids := db.InsertOps(t, s, dbtest.Op{
				Name: "2024_01_01_000000_A", ExecutedAt: "2024-01-01 00:00:00", FailedAt: "2024-01-01 00:00:01",
				Errors: []dbtest.Err{{Exception: "E", Message: "m", Trace: "t"}},
			})
			// unique(name, executed_at)
			_, err := db.SQL.Exec(db.Rebind("insert into operations (id, name, type, state, executed_at) values (?, ?, 'sync', 'pending', ?)"),
				newID(tc.idType, "99"), "2024_01_01_000000_A", "2024-01-01 00:00:00")
			if err == nil {
				t.Error("a second row with the same name and executed_at was accepted")
			}
			// on delete cascade
			db.Exec(t, "delete from operations where id = ?", ids[0])
			var n int
			if err := db.SQL.QueryRow("select count(*) from operation_errors").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d error rows survived their operation's deletion", n)
			}
		})
	}
}

func newID(idType, n string) string {
	switch idType {
	case "ulid":
		return ulid.Make().String()
	case "uuid":
		return uuid.NewString()
	}
	return n
}

func TestSchemaOptions(t *testing.T) {
	for _, d := range dbtest.All {
		t.Run(string(d)+"/custom names and skipped tables", func(t *testing.T) {
			t.Parallel()
			db := dbtest.NewDatabase(t, d)
			s := dbtest.Schema{Operations: "seq_ops", Errors: "seq_errors", Skip: []string{"migrations"}}
			dbtest.CreateSchema(t, db, s)
			ids := db.InsertOps(t, s, dbtest.Op{ID: "10", Name: "x", ExecutedAt: "2024-01-01 00:00:00"}, dbtest.Op{Name: "y", ExecutedAt: "2024-01-01 00:00:00"})
			if ids[0] != "10" || ids[1] != "11" {
				t.Errorf("ids = %q, want explicit 10 then generated 11", ids)
			}
			for _, missing := range []string{"migrations", "deferred_operations", "operations"} {
				if _, err := db.SQL.Exec("select 1 from " + db.Quote(missing)); err == nil {
					t.Errorf("table %s exists", missing)
				}
			}
			if _, err := db.SQL.Exec("select 1 from seq_errors"); err != nil {
				t.Errorf("table seq_errors missing: %v", err)
			}
		})
		t.Run(string(d)+"/migrations and deferred", func(t *testing.T) {
			t.Parallel()
			db := dbtest.NewDatabase(t, d)
			s := dbtest.Schema{IDType: "ulid", WithDeferred: true}
			dbtest.CreateSchema(t, db, s)
			db.InsertMigrations(t, s, "0001_01_01_000000_create_users_table", "2024_01_01_000000_create_operations_table")
			ids := db.InsertDeferred(t, s,
				dbtest.Deferred{Operation: "2024_01_01_000000_A", Payload: `{"a":1}`, DueAt: "2024-01-01 00:00:00"},
				dbtest.Deferred{Operation: "2024_01_01_000000_B", DueAt: "2024-01-02 00:00:00", Status: "failed", Attempts: 3, FailedAt: "2024-01-02 00:05:00", LastError: "boom"},
			)
			var migs, batch int
			if err := db.SQL.QueryRow("select count(*), max(batch) from migrations").Scan(&migs, &batch); err != nil {
				t.Fatal(err)
			}
			if migs != 2 || batch != 1 {
				t.Errorf("migrations: %d rows, max batch %d; want 2, 1", migs, batch)
			}
			var status, lastErr string
			var attempts, maxAttempts int
			q := db.Rebind("select status, attempts, max_attempts, coalesce(last_error, '') from deferred_operations where id = ?")
			if err := db.SQL.QueryRow(q, ids[0]).Scan(&status, &attempts, &maxAttempts, &lastErr); err != nil {
				t.Fatal(err)
			}
			if status != "pending" || attempts != 0 || maxAttempts != 3 || lastErr != "" {
				t.Errorf("defaults: %s %d %d %q", status, attempts, maxAttempts, lastErr)
			}
			if err := db.SQL.QueryRow(q, ids[1]).Scan(&status, &attempts, &maxAttempts, &lastErr); err != nil {
				t.Fatal(err)
			}
			if status != "failed" || attempts != 3 || lastErr != "boom" {
				t.Errorf("failed row: %s %d %q", status, attempts, lastErr)
			}
		})
	}
}

func TestDDLGolden(t *testing.T) {
	var b strings.Builder
	for _, d := range dbtest.All {
		for _, idType := range []string{"id", "ulid", "uuid"} {
			stmts, err := dbtest.DDL(d, dbtest.Schema{IDType: idType, WithDeferred: true})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "-- %s, %s\n%s;\n\n", d, idType, strings.Join(stmts, ";\n"))
		}
	}
	testkit.Golden(t, filepath.Join("testdata", "ddl.golden"), []byte(b.String()), update)
	if _, err := dbtest.DDL(dbtest.Postgres, dbtest.Schema{IDType: "int"}); err == nil {
		t.Error("IDType int accepted")
	}
}

func TestServerStopAndStart(t *testing.T) {
	srv := dbtest.NewPostgresServer(t)
	db := srv.NewDatabase(t)
	dbtest.CreateSchema(t, db, dbtest.Schema{})
	db.InsertOps(t, dbtest.Schema{}, dbtest.Op{Name: "a", ExecutedAt: "2024-01-01 00:00:00"})
	port := srv.Port

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	fresh := func() (int, error) {
		pool, err := sql.Open(db.DSN())
		if err != nil {
			return 0, err
		}
		defer pool.Close()
		var n int
		err = pool.QueryRow("select count(*) from operations").Scan(&n)
		return n, err
	}
	if _, err := fresh(); err == nil {
		t.Fatal("query succeeded against a stopped server")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if srv.Port != port {
		t.Errorf("port changed from %d to %d", port, srv.Port)
	}
	n, err := fresh()
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if n != 1 {
		t.Errorf("after restart: %d rows, want 1 (data kept)", n)
	}
}

func TestWriteApp(t *testing.T) {
	for _, d := range dbtest.All {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := dbtest.NewDatabase(t, d)
			dir := t.TempDir()
			dbtest.WriteApp(t, dir, db, dbtest.AppFiles{
				Operations: []string{"2024_01_15_130000_NotifyUsers", "2024_01_16_000000_Other.php"},
				Migrations: []string{"2024_01_01_000000_create_operations_table"},
				Timezone:   "Europe/Berlin",
				ExtraEnv: map[string]string{
					"SEQUENCER_OPERATIONS_TABLE": "seq ops",
					"WEIRD":                      `it's "quoted" $HOME #x`,
					"APP_NAME":                   "Shop",
				},
			})
			env, err := godotenv.Read(filepath.Join(dir, ".env"))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"APP_NAME": "Shop", "APP_ENV": "testing", "APP_TIMEZONE": "Europe/Berlin",
				"DB_CONNECTION": string(d), "SEQUENCER_OPERATIONS_TABLE": "seq ops",
				"WEIRD": `it's "quoted" $HOME #x`,
			}
			if d == dbtest.SQLite {
				want["DB_DATABASE"] = db.Path
			} else {
				want["DB_HOST"] = "127.0.0.1"
				want["DB_PORT"] = fmt.Sprint(db.Port)
				want["DB_DATABASE"] = db.Database
				want["DB_USERNAME"] = db.Username
				want["DB_PASSWORD"] = db.Password
			}
			if !reflect.DeepEqual(env, want) {
				t.Errorf(".env read back as\n%q\nwant\n%q", env, want)
			}
			for _, f := range []string{
				"artisan", "composer.json",
				"database/operations/2024_01_15_130000_NotifyUsers.php",
				"database/operations/2024_01_16_000000_Other.php",
				"database/migrations/2024_01_01_000000_create_operations_table.php",
			} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	t.Run("no database", func(t *testing.T) {
		dir := t.TempDir()
		dbtest.WriteApp(t, dir, nil, dbtest.AppFiles{})
		env, err := godotenv.Read(filepath.Join(dir, ".env"))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := env["DB_CONNECTION"]; ok {
			t.Errorf("DB_CONNECTION written without a database: %q", env)
		}
		if fi, err := os.Stat(filepath.Join(dir, "database", "operations")); err != nil || !fi.IsDir() {
			t.Errorf("database/operations not created: %v", err)
		}
	})
}

func TestURL(t *testing.T) {
	for _, d := range dbtest.All {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			db := dbtest.NewDatabase(t, d)
			var want string
			switch d {
			case dbtest.Postgres:
				want = fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", db.Username, db.Password, db.Port, db.Database)
			case dbtest.MySQL:
				want = fmt.Sprintf("mysql://%s:%s@127.0.0.1:%d/%s", db.Username, db.Password, db.Port, db.Database)
			case dbtest.SQLite:
				want = "sqlite://" + db.Path
				if !filepath.IsAbs(db.Path) {
					t.Errorf("sqlite path %q is not absolute", db.Path)
				}
			}
			if db.URL != want {
				t.Errorf("URL = %q, want %q", db.URL, want)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	tests := []struct {
		d        dbtest.Dialect
		in, want string
	}{
		{dbtest.Postgres, "select ? , '?' , \"a?\", ?", "select $1 , '?' , \"a?\", $2"},
		{dbtest.MySQL, "select ?, '?'", "select ?, '?'"},
		{dbtest.SQLite, "select ?", "select ?"},
	}
	for _, tc := range tests {
		t.Run(string(tc.d), func(t *testing.T) {
			db := &dbtest.DB{Dialect: tc.d}
			if got := db.Rebind(tc.in); got != tc.want {
				t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
