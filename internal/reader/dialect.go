package reader

import (
	"fmt"
	"strings"
)

// spelling is how one database spells the SQL that differs between the
// three seqwatch reads: one implementation per dialect (pgsql, mysql for
// MySQL and MariaDB, sqlite), each method one expression. The queries are
// written once, in read.go, problems.go, incremental.go and history.go,
// and ask their dialect for these parts; where a whole query differs (the
// catalogue, the statistics, the index walk), they choose by name.
type spelling interface {
	// name is "pgsql", "mysql" or "sqlite".
	name() string
	// ph returns the n-th (1-based) placeholder.
	ph(n int) string
	// quote quotes one identifier (no schema prefix).
	quote(ident string) string
	// text casts an expression to text (ids of any type, jsonb).
	text(expr string) string
	// concat is the concatenation of two strings.
	concat(a, b string) string
	// charLen is the length of e in characters (MySQL's LENGTH counts
	// bytes; SQLite has no CHAR_LENGTH).
	charLen(e string) string
	// endsPHP is true when the text expression e ends in ".php", compared
	// byte for byte as laravel.StripPHP does (MySQL's collations ignore
	// case).
	endsPHP(e string) string
	// odd is true when column e holds anything but printable ASCII other
	// than the space and '|' (which text.Line treats as a space): text
	// whose display width may not be its length.
	odd(e string) string
	// stampOK is true when the time stamp column e (not NULL) holds a time
	// that parseStamp reads, as far as SQL can tell cheaply: false for
	// PostgreSQL's infinity, MySQL's zero dates, and in SQLite text that
	// does not start like a date, or a REAL.
	stampOK(e string) string
	// hasTrace is 1 when the error row e (of the table errs) has a stack
	// trace (neither NULL nor empty), else 0, without fetching the trace.
	hasTrace(errs string) string
	// byteOrderDesc orders by the text id descending the way sortFailures
	// does: the longer first (integer ids numerically), then byte by byte,
	// whatever the collation.
	byteOrderDesc(id string) string
	// probeFence ends a NOT EXISTS probe. On PostgreSQL it is OFFSET 0,
	// which keeps the planner from turning the probe into a hash anti-join
	// that hashes every completed row (a cost that grows with the
	// history): each candidate is then one index probe that stops at the
	// first match. MySQL/MariaDB and SQLite already probe per row.
	probeFence() string
}

// dialect is a database's spelling with what every dialect builds from it
// alike.
type dialect struct{ spelling }

func dialectFor(driver string) dialect {
	switch driver {
	case "pgsql":
		return dialect{pgsqlSpelling{}}
	case "mysql", "mariadb":
		return dialect{mysqlSpelling{}}
	}
	return dialect{sqliteSpelling{}}
}

// table quotes a validated table name, keeping a schema prefix apart.
func (d dialect) table(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = d.quote(p)
	}
	return strings.Join(parts, ".")
}

// in returns "(ph, ph, ...)" for n values starting at placeholder start.
func (d dialect) in(start, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.ph(start + i))
	}
	b.WriteByte(')')
	return b.String()
}

// otherSpelling is the SQL for a name's other spelling: without ".php" when
// it has it, with it when it has not. Sequencer stores both.
func (d dialect) otherSpelling(col string) string {
	return "CASE WHEN " + col + " LIKE '%.php' THEN SUBSTR(" + col + ", 1, " + d.charLen(col) + " - 4) ELSE " + d.concat(col, "'.php'") + " END"
}

// base is the name in column e without ".php", as laravel.StripPHP makes
// it.
func (d dialect) base(e string) string {
	cut := "SUBSTR(" + e + ", 1, " + d.charLen(e) + " - 4)"
	return "CASE WHEN " + d.endsPHP(e) + " THEN " + cut + " ELSE " + e + " END"
}

// unreadable is true when the time stamp column e holds a value that is
// not NULL and not a time (stampOK).
func (d dialect) unreadable(e string) string {
	return "(" + e + " IS NOT NULL AND NOT " + d.stampOK(e) + ")"
}

// withPHP appends ".php" to the text expression e.
func (d dialect) withPHP(e string) string { return d.concat("("+e+")", "'.php'") }

// pgsqlSpelling is PostgreSQL's spelling.
type pgsqlSpelling struct{}

func (pgsqlSpelling) name() string              { return "pgsql" }
func (pgsqlSpelling) ph(n int) string           { return fmt.Sprintf("$%d", n) }
func (pgsqlSpelling) quote(ident string) string { return `"` + ident + `"` }
func (pgsqlSpelling) text(e string) string      { return "CAST(" + e + " AS TEXT)" }
func (pgsqlSpelling) concat(a, b string) string { return a + " || " + b }
func (pgsqlSpelling) charLen(e string) string   { return "CHAR_LENGTH(" + e + ")" }
func (pgsqlSpelling) endsPHP(e string) string   { return "RIGHT(" + e + `, 4) COLLATE "C" = '.php'` }

// hasTrace: text's <> compares the stored lengths first, so a trace kept
// out of line (TOAST) is not fetched (EXPLAIN: the same buffers as without
// the column, a fifth of the time of reading the traces).
func (pgsqlSpelling) hasTrace(string) string {
	return "CASE WHEN e.trace IS NOT NULL AND e.trace <> '' THEN 1 ELSE 0 END"
}
func (pgsqlSpelling) probeFence() string      { return " OFFSET 0" }
func (pgsqlSpelling) stampOK(e string) string { return "isfinite(" + e + ")" }
func (pgsqlSpelling) odd(e string) string {
	return "(" + e + ` COLLATE "C" ~ '[^!-~]' OR ` + e + " LIKE '%|%')"
}
func (pgsqlSpelling) byteOrderDesc(id string) string {
	return "OCTET_LENGTH(" + id + ") DESC, " + id + ` COLLATE "C" DESC`
}

// mysqlSpelling is the spelling of MySQL and MariaDB.
type mysqlSpelling struct{}

func (mysqlSpelling) name() string              { return "mysql" }
func (mysqlSpelling) ph(int) string             { return "?" }
func (mysqlSpelling) quote(ident string) string { return "`" + ident + "`" }
func (mysqlSpelling) text(e string) string      { return "CAST(" + e + " AS CHAR)" }
func (mysqlSpelling) concat(a, b string) string { return "CONCAT(" + a + ", " + b + ")" }
func (mysqlSpelling) charLen(e string) string   { return "CHAR_LENGTH(" + e + ")" }
func (mysqlSpelling) endsPHP(e string) string   { return "CAST(RIGHT(" + e + ", 4) AS BINARY) = '.php'" }
func (mysqlSpelling) probeFence() string        { return "" }
func (mysqlSpelling) stampOK(e string) string {
	return "(MONTH(" + e + ") <> 0 AND DAYOFMONTH(" + e + ") <> 0)"
}
func (mysqlSpelling) odd(e string) string {
	return "(" + e + " REGEXP '[^!-~]' OR " + e + " LIKE '%|%')"
}

// hasTrace: 1 for every error row. Any test of the column puts it in the
// statement's read set, and InnoDB then fetches every trace (4-8 KB each,
// hundreds of KB at worst). Sequencer's column is NOT NULL and its value
// PHP's getTraceAsString(), which is never empty ("#0 {main}" at least).
func (mysqlSpelling) hasTrace(string) string { return "1" }
func (mysqlSpelling) byteOrderDesc(id string) string {
	return "LENGTH(" + id + ") DESC, CAST(" + id + " AS BINARY) DESC"
}

// sqliteSpelling is SQLite's spelling.
type sqliteSpelling struct{}

func (sqliteSpelling) name() string              { return "sqlite" }
func (sqliteSpelling) ph(int) string             { return "?" }
func (sqliteSpelling) quote(ident string) string { return `"` + ident + `"` }
func (sqliteSpelling) text(e string) string      { return "CAST(" + e + " AS TEXT)" }
func (sqliteSpelling) concat(a, b string) string { return a + " || " + b }
func (sqliteSpelling) charLen(e string) string   { return "LENGTH(" + e + ")" }
func (sqliteSpelling) endsPHP(e string) string   { return "SUBSTR(" + e + ", -4) = '.php'" }
func (sqliteSpelling) probeFence() string        { return "" }

// stampOK: numbers sort before text, and a date starts with a digit.
// Integers are Unix seconds.
func (sqliteSpelling) stampOK(e string) string {
	return "(typeof(" + e + ") = 'integer' OR (" + e + " > '0000-00-00 00:00:00' AND " + e + " < ':'))"
}

// odd also counts a length that differs from the byte count: SQLite's
// LENGTH stops at a NUL.
func (sqliteSpelling) odd(e string) string {
	return "(" + e + " GLOB '*[^!-~]*' OR LENGTH(CAST(" + e + " AS BLOB)) <> LENGTH(" + e + ") OR " + e + " LIKE '%|%')"
}

// hasTrace: a look-up of the error row by its key. Naming e.trace in the
// join itself puts every trace into the automatic index SQLite builds on
// operation_errors.operation_id (which has no index), and doubled the
// read's CPU time; OCTET_LENGTH of the row read by its key does not
// fetch the trace.
func (sqliteSpelling) hasTrace(errs string) string {
	return "(SELECT CASE WHEN OCTET_LENGTH(x.trace) > 0 THEN 1 ELSE 0 END FROM " + errs + " x WHERE x.id = e.id)"
}
func (sqliteSpelling) byteOrderDesc(id string) string {
	return "LENGTH(CAST(" + id + " AS BLOB)) DESC, " + id + " DESC"
}
