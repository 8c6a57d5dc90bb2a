// Command gen prints the statements that create Sequencer's tables on
// PostgreSQL (Laravel 11's DDL, from check/dbtest), so that bench/run.sh
// builds the benchmark database with the same schema the tests use.
//
//	go run ./bench/gen > schema.sql
package main

import (
	"fmt"
	"os"

	"github.com/seqwatch/seqwatch/check/dbtest"
)

func main() { os.Exit(run()) }

func run() int {
	stmts, err := dbtest.DDL(dbtest.Postgres, dbtest.Schema{WithDeferred: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		return 1
	}
	for _, s := range stmts {
		fmt.Println(s + ";")
	}
	return 0
}
