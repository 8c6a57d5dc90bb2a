package reader

import (
	"fmt"
	"strings"
)

// dialect holds the few places where the three databases' SQL differs.
type dialect struct {
	name string
	// ph returns the n-th (1-based) placeholder.
	ph func(n int) string
	// quote quotes an identifier that may carry a schema prefix.
	quoteChar string
	// text casts an expression to text (ids of any type, jsonb).
	text func(expr string) string
}

func dialectFor(driver string) dialect {
	switch driver {
	case "pgsql":
		return dialect{name: "pgsql", ph: func(n int) string { return fmt.Sprintf("$%d", n) }, quoteChar: `"`,
			text: func(e string) string { return "CAST(" + e + " AS TEXT)" }}
	case "mysql", "mariadb":
		return dialect{name: "mysql", ph: func(int) string { return "?" }, quoteChar: "`",
			text: func(e string) string { return "CAST(" + e + " AS CHAR)" }}
	default:
		return dialect{name: "sqlite", ph: func(int) string { return "?" }, quoteChar: `"`,
			text: func(e string) string { return "CAST(" + e + " AS TEXT)" }}
	}
}

// table quotes a validated table name, keeping a schema prefix apart.
func (d dialect) table(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = d.quoteChar + p + d.quoteChar
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
	if d.name == "mysql" {
		return "CASE WHEN " + col + " LIKE '%.php' THEN SUBSTRING(" + col + ", 1, CHAR_LENGTH(" + col + ") - 4) ELSE CONCAT(" + col + ", '.php') END"
	}
	return "CASE WHEN " + col + " LIKE '%.php' THEN SUBSTR(" + col + ", 1, LENGTH(" + col + ") - 4) ELSE " + col + " || '.php' END"
}

// concat is the SQL concatenation of two strings.
func (d dialect) concat(a, b string) string {
	if d.name == "mysql" {
		return "CONCAT(" + a + ", " + b + ")"
	}
	return a + " || " + b
}
