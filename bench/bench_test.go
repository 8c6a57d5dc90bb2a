// Package bench_test is seqwatch's read-cost benchmark: it generates the
// shapes of history real applications have, on PostgreSQL, MariaDB and
// SQLite, and times the seqwatch binary against, in the same run, the
// bare-SQL floor (the same questions asked by each database's own client)
// and the query pattern of `php artisan sequencer:status` (PHP and PDO).
//
//	SEQWATCH_BENCH=100000,1000000 go test ./bench -run Benchmark -v -timeout 3h
//
// It is skipped unless SEQWATCH_BENCH names the history sizes. Other
// settings: SEQWATCH_BENCH_DBS (pgsql,mysql,sqlite), SEQWATCH_BENCH_SHAPES
// (one-run-per-name,many-runs-per-name), SEQWATCH_BENCH_RUNS (10),
// SEQWATCH_BENCH_OUT (a file for the Markdown table), SEQWATCH_BENCH_ONLY
// (failed: time only status --failed and the PHP pattern's, 3 runs each)
// and SEQWATCH_BENCH_BEFORE (another seqwatch binary, such as main's,
// timed beside this one in the same run). It needs hyperfine,
// /usr/bin/time, psql, the mariadb client, sqlite3 and php (with pdo_pgsql,
// pdo_mysql, pdo_sqlite); a missing one leaves its column empty.
//
// It holds only this benchmark, and times the built binary from outside:
// of seqwatch it imports only internal/dbtest (the databases and their
// histories), and it must not import check, state, notify or any other
// package whose work it measures.
package bench_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// benchCap ends a command that runs longer (the PHP pattern's in_array
// loop takes minutes at a million rows); its time is then shown as "> cap".
const benchCap = 60 * time.Second

func envList(name, def string) []string {
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	return strings.Split(v, ",")
}

// timing is one command's figures.
type timing struct {
	median time.Duration // 0: not measured
	rssMB  float64
	note   string // "timeout" etc.
}

func (t timing) ms() string {
	switch {
	case t.note != "":
		return t.note
	case t.median == 0:
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(t.median.Microseconds())/1000)
}

type bench struct {
	t    *testing.T
	dir  string
	runs int
}

// measure times argv with hyperfine (median of runs after 2 warm-ups, or
// one run when slow) and its peak RSS with /usr/bin/time.
func (b *bench) measure(name string, runs int, prepare string, argv ...string) timing {
	b.t.Helper()
	if _, err := exec.LookPath(argv[0]); err != nil {
		return timing{note: "n/a"}
	}
	out := filepath.Join(b.dir, "h.json")
	args := []string{"-N", "-i", "--style", "none", "--export-json", out, "--runs", strconv.Itoa(runs)}
	if runs > 1 {
		args = append(args, "--warmup", "2")
	}
	if prepare != "" {
		args = append(args, "--prepare", prepare)
	}
	cmd := make([]string, len(argv))
	for i, a := range argv {
		cmd[i] = shellQuote(a)
	}
	args = append(args, fmt.Sprintf("timeout %d ", int(benchCap.Seconds()))+strings.Join(cmd, " "))
	hf := exec.Command("hyperfine", args...)
	if msg, err := hf.CombinedOutput(); err != nil {
		b.t.Logf("%s: %v\n%s", name, err, msg)
		return timing{note: "failed"}
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		b.t.Fatal(err)
	}
	var res struct {
		Results []struct {
			Median    float64 `json:"median"`
			ExitCodes []int   `json:"exit_codes"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || len(res.Results) == 0 {
		b.t.Fatalf("hyperfine output: %v", err)
	}
	tm := timing{median: time.Duration(res.Results[0].Median * float64(time.Second))}
	for _, c := range res.Results[0].ExitCodes {
		if c == 124 {
			return timing{note: fmt.Sprintf("> %d s", int(benchCap.Seconds()))}
		}
	}
	rssRuns := min(runs, 3)
	for range rssRuns {
		f := filepath.Join(b.dir, "rss")
		if prepare != "" {
			exec.Command("sh", "-c", prepare).Run()
		}
		c := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", f}, argv...)...)
		c.Run()
		if v, err := os.ReadFile(f); err == nil {
			lines := strings.Split(strings.TrimSpace(string(v)), "\n")
			if kb, err := strconv.ParseFloat(lines[len(lines)-1], 64); err == nil {
				tm.rssMB = max(tm.rssMB, kb/1024)
			}
		}
	}
	b.t.Logf("%s: %s ms, %.1f MB", name, tm.ms(), tm.rssMB)
	return tm
}

func shellQuote(s string) string {
	if regexp.MustCompile(`^[A-Za-z0-9_./=:,@%+-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TestBenchmark is the benchmark; see the package comment.
func TestBenchmark(t *testing.T) {
	spec := os.Getenv("SEQWATCH_BENCH")
	if spec == "" {
		t.Skip("set SEQWATCH_BENCH=100000,1000000 to run the benchmark (see docs/performance.md)")
	}
	runs := 10
	if v, err := strconv.Atoi(os.Getenv("SEQWATCH_BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	work := t.TempDir()
	bin := filepath.Join(work, "seqwatch")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/seqwatch").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var rows, sums []string
	only := os.Getenv("SEQWATCH_BENCH_ONLY")
	if only != "" && only != "failed" {
		t.Fatalf("SEQWATCH_BENCH_ONLY: %q is not a command the benchmark can time alone (failed)", only)
	}
	for _, d := range envList("SEQWATCH_BENCH_DBS", "pgsql,mysql,sqlite") {
		for _, shape := range envList("SEQWATCH_BENCH_SHAPES", string(dbtest.OneRunPerName)+","+string(dbtest.ManyRunsPerName)) {
			for _, n := range strings.Split(spec, ",") {
				size, err := strconv.Atoi(n)
				if err != nil {
					t.Fatalf("SEQWATCH_BENCH: %q is not a number of rows", n)
				}
				detail, sum := runOne(t, bin, dbtest.Dialect(d), dbtest.Shape(shape), size, runs, only)
				rows = append(rows, detail...)
				sums = append(sums, sum)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Command: `SEQWATCH_BENCH=%s go test ./bench -run Benchmark -v -timeout 3h`; %s; %d CPUs; median of %d runs (hyperfine), 3 for status and PHP at most, a run longer than %d s is cut; peak RSS from /usr/bin/time.\n\n",
		spec, time.Now().UTC().Format("2006-01-02"), numCPU(), runs, int(benchCap.Seconds()))
	if only == "failed" {
		b.WriteString("| database | shape | rows | `status --failed` before ms | `status --failed` ms | PHP pattern ms | PHP / before | PHP / after |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|\n")
	} else {
		b.WriteString("| database | shape | rows | `check` ms / floor ms (ratio) | `check` MB | `status --failed` ms / PHP | `--pending` / PHP | `--completed` / PHP | `status` ms | `status` peak MB | first tick ms | unchanged tick ms (its read) |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	}
	for _, r := range sums {
		b.WriteString(r + "\n")
	}
	b.WriteString("\nEvery command:\n\n")
	b.WriteString("| database | shape | rows | command | seqwatch ms | seqwatch MB | floor ms | sequencer:status pattern (PHP) ms | ratio |\n")
	b.WriteString("|---|---|---:|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	t.Log("\n" + b.String())
	if out := os.Getenv("SEQWATCH_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func numCPU() int {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// runOne generates one history and measures every command on it.
// It returns the detailed rows and one summary row.
func runOne(t *testing.T, bin string, d dbtest.Dialect, shape dbtest.Shape, size, runs int, only string) (out []string, summary string) {
	t.Helper()
	dir := t.TempDir()
	b := &bench{t: t, dir: dir, runs: runs}
	start := time.Now()
	db := dbtest.NewDatabase(t, d)
	dbtest.CreateSchema(t, db, dbtest.Schema{})
	g := db.InsertHistory(t, dbtest.History{Shape: shape, Rows: size})
	var migs []string
	for i := range 200 {
		migs = append(migs, fmt.Sprintf("2019_%02d_%02d_000000_create_table_%d_table", i%12+1, i%28+1, i))
	}
	db.InsertMigrations(t, dbtest.Schema{}, migs...)
	switch d {
	case dbtest.Postgres:
		// As autovacuum would have: statistics and the visibility map.
		if _, err := db.SQL.Exec("VACUUM ANALYZE"); err != nil {
			t.Fatal(err)
		}
	default:
		db.Analyze(t)
	}
	app := filepath.Join(dir, "app")
	dbtest.WriteApp(t, app, db, dbtest.AppFiles{Operations: g.Files, Migrations: migs})
	t.Logf("%s %s %d: %d rows, %d failed, %d files; generated in %s", d, shape, size, g.Rows, g.FailedRows, len(g.Files), time.Since(start).Round(time.Second))

	floor := floorCommand(t, db, dir, g)
	php := func(mode string) []string {
		dsn, user, pw := pdoDSN(db)
		script, _ := filepath.Abs("sequencer_status.php")
		return []string{"php", "-d", "memory_limit=-1", script, dsn, user, pw, mode, filepath.Join(app, "database", "operations")}
	}

	cfg := filepath.Join(dir, "seqwatch.yaml")
	state := filepath.Join(dir, "state.json")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("app: %s\non_first_run: silent\nstate:\n  path: %s\nchannels:\n  - name: console\n    console: {}\n", app, state)), 0o600); err != nil {
		t.Fatal(err)
	}

	label := fmt.Sprintf("| %s | %s | %d |", d, shape, g.Rows)
	row := func(cmd string, sw, fl, ph timing) {
		ratio := "–"
		switch {
		case fl.median > 0 && sw.median > 0:
			ratio = fmt.Sprintf("%.2fx floor", float64(sw.median)/float64(fl.median))
		case ph.median > 0 && sw.median > 0:
			ratio = fmt.Sprintf("%.0fx faster", float64(ph.median)/float64(sw.median))
		case strings.HasPrefix(ph.note, "> ") && sw.median > 0:
			ratio = fmt.Sprintf("> %.0fx faster", float64(benchCap)/float64(sw.median))
		}
		out = append(out, fmt.Sprintf("%s %s | %s | %.1f | %s | %s | %s |", label, cmd, sw.ms(), sw.rssMB, fl.ms(), ph.ms(), ratio))
	}
	slow := min(runs, 3)
	if only == "failed" {
		// status --failed alone, and the binary before a change beside it.
		// The PHP pattern goes first: the first reader after the history
		// was written pays for the database settling (on SQLite, PHP's
		// connection checkpoints the write-ahead log when it closes, and
		// seqwatch's read-only one cannot). The two binaries are then
		// timed before, after, after, before, and each given the mean of
		// its two medians, so that neither has the better place.
		pfa := b.measure("php failed", slow, "", php("failed")...)
		failed := func(name, binary string) timing {
			return b.measure(name, slow, "", binary, "status", "--failed", "--app", app)
		}
		var fa, fb timing
		if before := os.Getenv("SEQWATCH_BENCH_BEFORE"); before != "" {
			b1, a1, a2, b2 := failed("status --failed (before)", before), failed("status --failed", bin), failed("status --failed", bin), failed("status --failed (before)", before)
			fa, fb = meanOf(a1, a2), meanOf(b1, b2)
			row("`status --failed` (before)", fb, timing{}, pfa)
		} else {
			fa = failed("status --failed", bin)
		}
		row("`status --failed`", fa, timing{}, pfa)
		faster := func(a timing) string {
			if a.median == 0 || pfa.median == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2fx", float64(pfa.median)/float64(a.median))
		}
		return out, fmt.Sprintf("%s %s | %s | %s | %s | %s |", label, fb.ms(), fa.ms(), pfa.ms(), faster(fb), faster(fa))
	}
	chk, flo := b.measure("check", runs, "", bin, "check", "--app", app), b.measure("floor", runs, "", floor...)
	row("`check`", chk, flo, timing{})
	fa, pfa := b.measure("status --failed", slow, "", bin, "status", "--failed", "--app", app), b.measure("php failed", 1, "", php("failed")...)
	row("`status --failed`", fa, timing{}, pfa)
	pe, ppe := b.measure("status --pending", slow, "", bin, "status", "--pending", "--app", app), b.measure("php pending", 1, "", php("pending")...)
	row("`status --pending`", pe, timing{}, ppe)
	co, pco := b.measure("status --completed", slow, "", bin, "status", "--completed", "--app", app), b.measure("php completed", 1, "", php("completed")...)
	row("`status --completed`", co, timing{}, pco)
	all := b.measure("status", slow, "", bin, "status", "--app", app)
	row("`status`", all, timing{}, timing{})
	first := b.measure("first tick", slow, "rm -f "+state, bin, "run", "--once", "--config", cfg)
	row("first tick (`run --once`, no state)", first, timing{}, timing{})
	// The state now holds the read mark: every further run is an unchanged tick.
	if o, err := exec.Command(bin, "run", "--once", "--config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("run --once: %v\n%s", err, o)
	}
	tick := b.measure("unchanged tick", runs, "", bin, "run", "--once", "--config", cfg)
	row("unchanged tick (`run --once`)", tick, timing{}, timing{})
	// The read alone, as the daemon logs it.
	readAlone := "–"
	o, _ := exec.Command(bin, "run", "--once", "--log-level", "debug", "--config", cfg).CombinedOutput()
	if m := regexp.MustCompile(`msg=read .*?duration=(\S+) queries=(\d+) rows=(\d+)`).FindStringSubmatch(string(o)); m != nil {
		out = append(out, fmt.Sprintf("%s unchanged tick, the read alone (debug log) | %s | | | | %s queries, %s rows |", label, m[1], m[2], m[3]))
		readAlone = m[1]
	}
	vs := func(a, b timing) string { return a.ms() + " / " + b.ms() }
	peak := max(fa.rssMB, pe.rssMB, co.rssMB, all.rssMB)
	summary = fmt.Sprintf("%s %s / %s (%s) | %.0f | %s | %s | %s | %s | %.0f | %s | %s (%s) |", label, chk.ms(), flo.ms(), ratioOf(chk, flo),
		chk.rssMB, vs(fa, pfa), vs(pe, ppe), vs(co, pco), all.ms(), peak, first.ms(), tick.ms(), readAlone)
	return out, summary
}

// meanOf is the mean of two timings of one command (the larger peak
// RSS); a note of either stands.
func meanOf(a, b timing) timing {
	switch {
	case a.note != "":
		return a
	case b.note != "":
		return b
	}
	return timing{median: (a.median + b.median) / 2, rssMB: max(a.rssMB, b.rssMB)}
}

// pdoDSN is the PDO data source of db.
func pdoDSN(db *dbtest.DB) (dsn, user, pw string) {
	switch db.Dialect {
	case dbtest.Postgres:
		return fmt.Sprintf("pgsql:host=%s;port=%d;dbname=%s", db.Host, db.Port, db.Database), db.Username, db.Password
	case dbtest.MySQL:
		return fmt.Sprintf("mysql:host=%s;port=%d;dbname=%s", db.Host, db.Port, db.Database), db.Username, db.Password
	}
	return "sqlite:" + db.Path, "-", "-"
}

// floorCommand writes the floor script (the questions check asks, as bare
// SQL in one transaction: failed and open rows with no later completed run,
// the errors of the failing ones, which operation files have no completed
// run, the migrations) and returns the client command that runs it.
func floorCommand(t *testing.T, db *dbtest.DB, dir string, g dbtest.Generated) []string {
	t.Helper()
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	other := "CASE WHEN o.name LIKE '%.php' THEN SUBSTR(o.name, 1, LENGTH(o.name) - 4) ELSE o.name || '.php' END"
	if db.Dialect == dbtest.MySQL {
		other = "CASE WHEN o.name LIKE '%.php' THEN SUBSTRING(o.name, 1, CHAR_LENGTH(o.name) - 4) ELSE CONCAT(o.name, '.php') END"
	}
	// Two NOT EXISTS, one per spelling: MariaDB uses no index for
	// "name IN (o.name, <expression>)".
	later := func(name string) string {
		return " AND NOT EXISTS (SELECT 1 FROM operations c WHERE c.name = " + name + " AND c.executed_at >= o.executed_at AND c.completed_at IS NOT NULL)"
	}
	problems := `FROM operations o WHERE (o.failed_at IS NOT NULL OR (o.completed_at IS NULL AND o.skipped_at IS NULL AND o.rolled_back_at IS NULL))` +
		later("o.name") + later(other)
	var names []string
	for _, f := range g.Files {
		names = append(names, q(f), q(f+".php"))
	}
	var s strings.Builder
	switch db.Dialect {
	case dbtest.Postgres:
		// Without JIT, as seqwatch reads: compiling these statements costs
		// more than running them from about 50,000 rows, and a floor that
		// paid for it would measure the compiler, not the questions.
		s.WriteString("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSET LOCAL jit = off;\n")
	case dbtest.MySQL:
		s.WriteString("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;\nSTART TRANSACTION READ ONLY;\n")
	default:
		s.WriteString("BEGIN;\n")
	}
	s.WriteString("SELECT o.id, o.name, o.type, o.state, o.executed_at, o.completed_at, o.failed_at " + problems + ";\n")
	s.WriteString("SELECT e.operation_id, e.id, e.exception, e.message, e.trace, e.context, e.created_at FROM operation_errors e WHERE e.operation_id IN (SELECT o.id " +
		strings.Replace(problems, "(o.failed_at IS NOT NULL OR (o.completed_at IS NULL AND o.skipped_at IS NULL AND o.rolled_back_at IS NULL))", "o.failed_at IS NOT NULL", 1) + ") ORDER BY e.created_at, e.id;\n")
	s.WriteString("SELECT DISTINCT name FROM operations WHERE completed_at IS NOT NULL AND name IN (" + strings.Join(names, ", ") + ");\n")
	s.WriteString("SELECT migration FROM migrations;\nCOMMIT;\n")
	path := filepath.Join(dir, "floor.sql")
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	switch db.Dialect {
	case dbtest.Postgres:
		return []string{"env", "PGPASSWORD=" + db.Password, "psql", "-X", "-q", "-At", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1",
			"-h", db.Host, "-p", strconv.Itoa(db.Port), "-U", db.Username, "-d", db.Database, "-f", path}
	case dbtest.MySQL:
		return []string{"env", "MYSQL_PWD=" + db.Password, "mariadb", "--skip-ssl", "-h", db.Host, "-P", strconv.Itoa(db.Port), "-u", db.Username, db.Database, "-e", "source " + path}
	}
	return []string{"sqlite3", db.Path, ".read " + path}
}

// ratioOf is a/b, or "–" when either is missing.
func ratioOf(a, b timing) string {
	if a.median == 0 || b.median == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", float64(a.median)/float64(b.median))
}
