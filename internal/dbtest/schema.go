package dbtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Schema says which Sequencer tables to create and how.
type Schema struct {
	// IDType is Sequencer's primary key type (SEQUENCER_PRIMARY_KEY_TYPE):
	// "id" (the default: big auto-increment integer), "ulid" (char(26)) or
	// "uuid" (PostgreSQL uuid, MySQL char(36), SQLite varchar).
	IDType string
	// Table names; empty means Sequencer's defaults: operations,
	// operation_errors, deferred_operations, migrations.
	Operations, Errors, Deferred, Migrations string
	// WithDeferred creates the deferred_operations table, which only newer
	// Sequencer versions have.
	WithDeferred bool
	// Skip names tables (by their actual names) not to create, for tests
	// of missing tables. When the operations table is skipped, the errors
	// table is created without its foreign key.
	Skip []string
}

// WithDefaults returns s with every empty field set to its default.
func (s Schema) WithDefaults() Schema {
	if s.IDType == "" {
		s.IDType = "id"
	}
	if s.Operations == "" {
		s.Operations = "operations"
	}
	if s.Errors == "" {
		s.Errors = "operation_errors"
	}
	if s.Deferred == "" {
		s.Deferred = "deferred_operations"
	}
	if s.Migrations == "" {
		s.Migrations = "migrations"
	}
	return s
}

// CreateSchema creates Sequencer's tables in db with the statements DDL
// returns.
func CreateSchema(t testing.TB, db *DB, opt Schema) {
	t.Helper()
	stmts, err := DDL(db.Dialect, opt)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	for _, q := range stmts {
		if _, err := db.SQL.Exec(q); err != nil {
			t.Fatalf("dbtest: create schema: %v\n%s", err, q)
		}
	}
}

// colKind is a Laravel Blueprint column type.
type colKind int

const (
	kPrimary            colKind = iota // id() / ulid('id')->primary() / uuid('id')->primary()
	kForeign                           // foreignId / foreignUlid / foreignUuid
	kIncrements                        // increments('id')
	kString                            // string(): varchar(255)
	kText                              // text()
	kLongText                          // longText()
	kJSON                              // json()
	kJSONB                             // jsonb()
	kTimestamp                         // timestamp(): precision 0
	kInteger                           // integer()
	kUnsignedInteger                   // unsignedInteger()
	kUnsignedBigInteger                // unsignedBigInteger() (morph ids)
)

type column struct {
	name     string
	kind     colKind
	nullable bool
	def      string // default value, "" = none
}

type index struct {
	kind string // "unique" or "index"
	cols []string
}

type foreign struct {
	col, table string
}

type table struct {
	name    string
	cols    []column
	indexes []index
	foreign *foreign
}

// tables returns Sequencer's tables in Blueprint form, in migration order.
func tables(s Schema) []table {
	nullTS := func(name string) column { return column{name: name, kind: kTimestamp, nullable: true} }
	ops := table{
		name: s.Operations,
		cols: []column{
			{name: "id", kind: kPrimary},
			{name: "name", kind: kString},
			{name: "type", kind: kString},
			{name: "state", kind: kString},
			// nullableMorphs('actor')
			{name: "actor_type", kind: kString, nullable: true},
			{name: "actor_id", kind: kUnsignedBigInteger, nullable: true},
			{name: "executed_at", kind: kTimestamp},
			nullTS("completed_at"),
			nullTS("failed_at"),
			nullTS("skipped_at"),
			{name: "skip_reason", kind: kText, nullable: true},
			nullTS("rolled_back_at"),
			nullTS("created_at"),
			nullTS("updated_at"),
		},
		indexes: []index{
			{"index", []string{"actor_type", "actor_id"}},
			{"unique", []string{"name", "executed_at"}},
			{"index", []string{"name"}},
			{"index", []string{"type"}},
			{"index", []string{"executed_at"}},
		},
	}
	errs := table{
		name: s.Errors,
		cols: []column{
			{name: "id", kind: kPrimary},
			{name: "operation_id", kind: kForeign},
			{name: "exception", kind: kString},
			{name: "message", kind: kText},
			{name: "trace", kind: kLongText},
			{name: "context", kind: kJSONB, nullable: true},
			nullTS("created_at"),
			nullTS("updated_at"),
		},
	}
	if !slices.Contains(s.Skip, s.Operations) {
		errs.foreign = &foreign{col: "operation_id", table: s.Operations}
	}
	deferred := table{
		name: s.Deferred,
		cols: []column{
			{name: "id", kind: kPrimary},
			{name: "operation", kind: kString},
			{name: "payload", kind: kJSON, nullable: true},
			{name: "due_at", kind: kTimestamp},
			{name: "status", kind: kString, def: "pending"},
			{name: "attempts", kind: kUnsignedInteger, def: "0"},
			{name: "max_attempts", kind: kUnsignedInteger, def: "3"},
			nullTS("reserved_at"),
			nullTS("processed_at"),
			nullTS("failed_at"),
			{name: "last_error", kind: kText, nullable: true},
			nullTS("created_at"),
			nullTS("updated_at"),
		},
		indexes: []index{{"index", []string{"status", "due_at"}}},
	}
	migrations := table{
		name: s.Migrations,
		cols: []column{
			{name: "id", kind: kIncrements},
			{name: "migration", kind: kString},
			{name: "batch", kind: kInteger},
		},
	}
	all := []table{migrations, ops, errs}
	if s.WithDeferred {
		all = append(all, deferred)
	}
	var out []table
	for _, tb := range all {
		if !slices.Contains(s.Skip, tb.name) {
			out = append(out, tb)
		}
	}
	return out
}

// DDL returns the statements that create Sequencer's tables on dialect d,
// as Laravel's schema grammar for d emits them (Laravel 11: PostgresGrammar,
// MySqlGrammar, SQLiteGrammar). Benchmarks and tests may run them by hand.
//
// Like Laravel, no index is created on operation_errors.operation_id:
// PostgreSQL and SQLite then have none, while InnoDB adds one implicitly
// for the foreign key.
func DDL(d Dialect, opt Schema) ([]string, error) {
	s := opt.WithDefaults()
	switch s.IDType {
	case "id", "ulid", "uuid":
	default:
		return nil, fmt.Errorf("schema: IDType must be id, ulid or uuid (got %q)", s.IDType)
	}
	g, err := grammarFor(d)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, tb := range tables(s) {
		out = append(out, g.create(tb, s.IDType)...)
	}
	return out, nil
}

// grammar renders Blueprint tables for one dialect.
type grammar struct {
	d Dialect
}

func grammarFor(d Dialect) (grammar, error) {
	switch d {
	case Postgres, MySQL, SQLite:
		return grammar{d}, nil
	}
	return grammar{}, fmt.Errorf("schema: unknown dialect %q", d)
}

// Quote quotes an identifier the way Laravel's grammar for d wraps it.
func (d Dialect) Quote(ident string) string {
	if d == MySQL {
		return "`" + strings.ReplaceAll(ident, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

func (g grammar) q(ident string) string { return g.d.Quote(ident) }

func (g grammar) cols(names []string) string {
	qs := make([]string, len(names))
	for i, n := range names {
		qs[i] = g.q(n)
	}
	return strings.Join(qs, ", ")
}

// typ is the column type for kind k.
func (g grammar) typ(k colKind, idType string) string {
	switch g.d {
	case Postgres:
		switch k {
		case kPrimary, kForeign:
			switch idType {
			case "ulid":
				return "char(26)"
			case "uuid":
				return "uuid"
			}
			if k == kPrimary {
				return "bigserial"
			}
			return "bigint"
		case kIncrements:
			return "serial"
		case kString:
			return "varchar(255)"
		case kText, kLongText:
			return "text"
		case kJSON:
			return "json"
		case kJSONB:
			return "jsonb"
		case kTimestamp:
			return "timestamp(0) without time zone"
		case kInteger, kUnsignedInteger:
			return "integer"
		case kUnsignedBigInteger:
			return "bigint"
		}
	case MySQL:
		switch k {
		case kPrimary, kForeign:
			switch idType {
			case "ulid":
				return "char(26)"
			case "uuid":
				return "char(36)"
			}
			return "bigint unsigned"
		case kIncrements:
			return "int unsigned"
		case kString:
			return "varchar(255)"
		case kText:
			return "text"
		case kLongText:
			return "longtext"
		case kJSON, kJSONB:
			return "json"
		case kTimestamp:
			return "timestamp"
		case kInteger:
			return "int"
		case kUnsignedInteger:
			return "int unsigned"
		case kUnsignedBigInteger:
			return "bigint unsigned"
		}
	case SQLite:
		switch k {
		case kPrimary, kForeign:
			if idType == "id" {
				return "integer"
			}
			return "varchar"
		case kIncrements, kInteger, kUnsignedInteger, kUnsignedBigInteger:
			return "integer"
		case kString:
			return "varchar"
		case kText, kLongText, kJSON, kJSONB:
			return "text"
		case kTimestamp:
			return "datetime"
		}
	}
	panic(fmt.Sprintf("dbtest: no type for kind %d on %s", k, g.d))
}

// autoIncrement reports whether the column is an auto-increment primary key.
func autoIncrement(c column, idType string) bool {
	return c.kind == kIncrements || (c.kind == kPrimary && idType == "id")
}

// columnSQL renders one column definition with Laravel's modifier order.
func (g grammar) columnSQL(c column, idType string) string {
	var b strings.Builder
	b.WriteString(g.q(c.name) + " " + g.typ(c.kind, idType))
	def := ""
	if c.def != "" {
		def = " default '" + c.def + "'"
	}
	auto := autoIncrement(c, idType)
	switch g.d {
	case Postgres: // Nullable, Default, Increment
		if c.nullable {
			b.WriteString(" null")
		} else {
			b.WriteString(" not null")
		}
		b.WriteString(def)
		if auto {
			b.WriteString(" primary key")
		}
	case MySQL: // Nullable, Default, Increment
		if c.nullable {
			b.WriteString(" null")
		} else {
			b.WriteString(" not null")
		}
		b.WriteString(def)
		if auto {
			b.WriteString(" auto_increment primary key")
		}
	case SQLite: // Increment, Nullable, Default
		if auto {
			b.WriteString(" primary key autoincrement")
		}
		if !c.nullable {
			b.WriteString(" not null")
		}
		b.WriteString(def)
	}
	return b.String()
}

// create renders the statements for one table.
func (g grammar) create(tb table, idType string) []string {
	var defs []string
	var primary []string
	for _, c := range tb.cols {
		defs = append(defs, g.columnSQL(c, idType))
		if c.kind == kPrimary && idType != "id" {
			primary = append(primary, c.name)
		}
	}
	var out []string
	fkSQL := ""
	if tb.foreign != nil {
		fkSQL = fmt.Sprintf("foreign key (%s) references %s (%s) on delete cascade",
			g.q(tb.foreign.col), g.q(tb.foreign.table), g.q("id"))
	}
	switch g.d {
	case Postgres:
		out = append(out, fmt.Sprintf("create table %s (%s)", g.q(tb.name), strings.Join(defs, ", ")))
		if len(primary) > 0 {
			out = append(out, fmt.Sprintf("alter table %s add primary key (%s)", g.q(tb.name), g.cols(primary)))
		}
		if fkSQL != "" {
			out = append(out, fmt.Sprintf("alter table %s add constraint %s %s",
				g.q(tb.name), g.q(tb.name+"_"+tb.foreign.col+"_foreign"), fkSQL))
		}
		for _, ix := range tb.indexes {
			name := indexName(tb.name, ix)
			if ix.kind == "unique" {
				out = append(out, fmt.Sprintf("alter table %s add constraint %s unique (%s)", g.q(tb.name), g.q(name), g.cols(ix.cols)))
			} else {
				out = append(out, fmt.Sprintf("create index %s on %s (%s)", g.q(name), g.q(tb.name), g.cols(ix.cols)))
			}
		}
	case MySQL:
		if len(primary) > 0 {
			// Laravel 11 puts the primary key in the create statement
			// (for sql_require_primary_key).
			defs = append(defs, "primary key ("+g.cols(primary)+")")
		}
		out = append(out, fmt.Sprintf("create table %s (%s) default character set utf8mb4 collate 'utf8mb4_unicode_ci'",
			g.q(tb.name), strings.Join(defs, ", ")))
		if fkSQL != "" {
			out = append(out, fmt.Sprintf("alter table %s add constraint %s %s",
				g.q(tb.name), g.q(tb.name+"_"+tb.foreign.col+"_foreign"), fkSQL))
		}
		for _, ix := range tb.indexes {
			out = append(out, fmt.Sprintf("alter table %s add %s %s(%s)", g.q(tb.name), ix.kind, g.q(indexName(tb.name, ix)), g.cols(ix.cols)))
		}
	case SQLite:
		if fkSQL != "" {
			defs = append(defs, fkSQL)
		}
		if len(primary) > 0 {
			defs = append(defs, "primary key ("+g.cols(primary)+")")
		}
		out = append(out, fmt.Sprintf("create table %s (%s)", g.q(tb.name), strings.Join(defs, ", ")))
		for _, ix := range tb.indexes {
			kw := "index"
			if ix.kind == "unique" {
				kw = "unique index"
			}
			out = append(out, fmt.Sprintf("create %s %s on %s (%s)", kw, g.q(indexName(tb.name, ix)), g.q(tb.name), g.cols(ix.cols)))
		}
	}
	return out
}

// indexName is Laravel's default index name: table_col1_col2_kind.
func indexName(tableName string, ix index) string {
	name := tableName + "_" + strings.Join(ix.cols, "_") + "_" + ix.kind
	return strings.ToLower(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}
