package bench_test

// The fleet benchmark: one seqwatch over many applications. It clones one
// generated application many times (CREATE DATABASE ... TEMPLATE on
// PostgreSQL, CREATE TABLE ... LIKE and INSERT ... SELECT inside MariaDB,
// file copies for SQLite), writes one seqwatch.yaml with every clone under
// apps:, and measures the built binary from outside:
//
//   - the first tick (run --once with no state), and an unchanged tick (run
//     --once again: the state holds the read mark), with the state in files
//     and in a PostgreSQL database (state.postgres);
//   - check --config over every application;
//   - for each: wall time, CPU time of seqwatch and of the applications'
//     server, peak RSS (getrusage), the most connections seen
//     on the applications' server, and what an unchanged tick writes: the
//     state server's WAL (pg_current_wal_lsn before and after) or the bytes
//     the process wrote to disk (getrusage's blocks written).
//
//	SEQWATCH_FLEET=1 go test ./bench -run TestFleet -v -timeout 3h
//
// Settings: SEQWATCH_FLEET_DBS (pgsql,mysql,sqlite), SEQWATCH_FLEET_SHAPES
// (one-run-per-name,many-runs-per-name), SEQWATCH_FLEET_STATES (file,postgres),
// SEQWATCH_FLEET_APPS (100: applications on each server), SEQWATCH_FLEET_ROWS
// (100000), SEQWATCH_FLEET_SQLITE_APPS (1000), SEQWATCH_FLEET_SQLITE_ROWS
// (10000), SEQWATCH_FLEET_RUNS (3: unchanged ticks, the median is shown),
// SEQWATCH_FLEET_MARIADB_POOL (MB: the MariaDB server's InnoDB buffer pool,
// 32 in the test harness), SEQWATCH_FLEET_OUT (a file for the Markdown table), SEQWATCH_FLEET_TRACE (a
// file for PostgreSQL's log of every connection and statement of check
// --config, with durations), SEQWATCH_FLEET_KEEP (a
// directory where the SQLite fleet and its seqwatch.yaml stay after the run,
// to profile by hand). Every application
// shares one directory of operation and migration files (symbolic links),
// so that 1,000 applications do not need ten million files.

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/dbtest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// fleet is one set of cloned applications.
type fleet struct {
	d       dbtest.Dialect
	shape   dbtest.Shape
	rows    int // rows of each application
	apps    []string
	dir     string
	srv     *dbtest.Server // nil for SQLite
	watch   *sql.DB        // the applications' server, for the connection count
	cleanup func()
}

// fleetRun is one command's figures.
type fleetRun struct {
	wall     time.Duration
	cpu      time.Duration // user and system time of the process
	rssMB    float64
	written  int64 // bytes the process wrote to disk
	walBytes int64 // -1: not measured
	conns    int   // most connections seen on the applications' server
	// serverCPU is the processor time the applications' server spent
	// meanwhile (-1: not measured; SQLite has no server).
	serverCPU time.Duration
	code      int
}

// TestFleet is the fleet benchmark; see the comment at the top of the file.
func TestFleet(t *testing.T) {
	if os.Getenv("SEQWATCH_FLEET") == "" {
		t.Skip("set SEQWATCH_FLEET=1 to run the fleet benchmark (see docs/performance.md)")
	}
	load := loadAvg()
	work := t.TempDir()
	bin := filepath.Join(work, "seqwatch")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/seqwatch").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	runs := envInt("SEQWATCH_FLEET_RUNS", 3)
	states := envList("SEQWATCH_FLEET_STATES", "file,postgres")
	var stateSrv *dbtest.Server
	if slices.Contains(states, "postgres") {
		stateSrv = dbtest.NewServer(t, dbtest.Postgres)
	}
	var rows []string
	for _, d := range envList("SEQWATCH_FLEET_DBS", "pgsql,mysql,sqlite") {
		n, size := envInt("SEQWATCH_FLEET_APPS", 100), envInt("SEQWATCH_FLEET_ROWS", 100000)
		if dbtest.Dialect(d) == dbtest.SQLite {
			n, size = envInt("SEQWATCH_FLEET_SQLITE_APPS", 1000), envInt("SEQWATCH_FLEET_SQLITE_ROWS", 10000)
		}
		for _, shape := range envList("SEQWATCH_FLEET_SHAPES", string(dbtest.OneRunPerName)+","+string(dbtest.ManyRunsPerName)) {
			f := newFleet(t, dbtest.Dialect(d), dbtest.Shape(shape), n, size)
			for i, st := range states {
				rows = append(rows, measureFleet(t, bin, f, st, stateSrv, runs, i == 0))
			}
			f.cleanup()
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Command: `SEQWATCH_FLEET=1 go test ./bench -run TestFleet -v -timeout 3h`; %s; %d CPUs; load average at the start %s, at the end %s (the 1, 5 and 15 minute averages); unchanged tick: median of %d runs; MB: peak RSS.\n\n",
		time.Now().UTC().Format("2006-01-02"), numCPU(), load, loadAvg(), runs)
	b.WriteString("| database | shape | apps × rows | state | first tick s (CPU s, MB) | unchanged tick s (CPU s, MB) | unchanged tick writes | `check --config` s (CPU s, MB) | server CPU s: first tick, `check` | most connections | load (1 min) |\n")
	b.WriteString("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	t.Log("\n" + b.String())
	if out := os.Getenv("SEQWATCH_FLEET_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// loadAvg is /proc/loadavg's three averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// newFleet generates one application and clones it n times.
func newFleet(t *testing.T, d dbtest.Dialect, shape dbtest.Shape, n, size int) *fleet {
	t.Helper()
	start := time.Now()
	f := &fleet{d: d, shape: shape, rows: size, dir: t.TempDir()}
	keep := os.Getenv("SEQWATCH_FLEET_KEEP")
	if keep != "" && d == dbtest.SQLite {
		// Kept for profiling by hand: the SQLite fleet outlives the test.
		f.dir = filepath.Join(keep, string(shape))
		if err := os.MkdirAll(f.dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var tmpl *dbtest.DB
	if d == dbtest.SQLite {
		tmpl = dbtest.NewDatabase(t, d)
	} else {
		f.srv = dbtest.NewServer(t, d)
		tmpl = f.srv.NewDatabase(t)
	}
	if mb := envInt("SEQWATCH_FLEET_MARIADB_POOL", 0); mb > 0 && d == dbtest.MySQL {
		// The test harness's server has a 32 MB buffer pool, which the
		// fleet's 100 databases (about 6 GB) go through; a real server
		// has one sized to its data. InnoDB resizes it while it runs.
		if _, err := tmpl.SQL.Exec(fmt.Sprintf("SET GLOBAL innodb_buffer_pool_size = %d", mb<<20)); err != nil {
			t.Fatalf("SEQWATCH_FLEET_MARIADB_POOL: %v", err)
		}
	}
	schema := dbtest.Schema{WithDeferred: true}
	dbtest.CreateSchema(t, tmpl, schema)
	g := tmpl.InsertHistory(t, dbtest.History{Shape: shape, Rows: size})
	var migs []string
	for i := range 200 {
		migs = append(migs, fmt.Sprintf("2019_%02d_%02d_000000_create_table_%d_table", i%12+1, i%28+1, i))
	}
	tmpl.InsertMigrations(t, schema, migs...)
	tmpl.InsertDeferredHistory(t, size/10-5, 5)
	switch d {
	case dbtest.Postgres:
		if _, err := tmpl.SQL.Exec("VACUUM ANALYZE"); err != nil {
			t.Fatal(err)
		}
	case dbtest.MySQL:
		for _, tb := range []string{"operations", "operation_errors", "deferred_operations", "migrations"} {
			if _, err := tmpl.SQL.Exec("ANALYZE TABLE " + tb); err != nil {
				t.Fatal(err)
			}
		}
	default:
		tmpl.Analyze(t)
	}
	// The files every application shares.
	files := filepath.Join(f.dir, "files")
	dbtest.WriteApp(t, files, nil, dbtest.AppFiles{Operations: g.Files, Migrations: migs})
	if err := tmpl.SQL.Close(); err != nil { // a template must have no session
		t.Fatal(err)
	}
	admin := f.admin(t)
	var clones []string
	var mu sync.Mutex
	drop := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range clones {
			switch d {
			case dbtest.Postgres:
				admin.Exec(`DROP DATABASE IF EXISTS "` + c + `" WITH (FORCE)`)
			case dbtest.MySQL:
				admin.Exec("DROP DATABASE IF EXISTS `" + c + "`")
			}
		}
		clones = nil
		if f.watch != nil {
			f.watch.Close()
		}
		if keep == "" || d != dbtest.SQLite {
			os.RemoveAll(f.dir)
		}
	}
	f.cleanup = drop
	t.Cleanup(drop)
	for i := range n {
		name := fmt.Sprintf("app%04d", i)
		clone := "fleet_" + name
		db := &dbtest.DB{Dialect: d, Host: tmpl.Host, Port: tmpl.Port, Database: clone, Username: tmpl.Username, Password: tmpl.Password}
		switch d {
		case dbtest.Postgres:
			if _, err := admin.Exec(`CREATE DATABASE "` + clone + `" TEMPLATE "` + tmpl.Database + `"`); err != nil {
				t.Fatalf("clone %s: %v", clone, err)
			}
		case dbtest.MySQL:
			cloneMariaDB(t, admin, tmpl.Database, clone)
		default:
			db.Path = filepath.Join(f.dir, name+".sqlite")
			db.Database = db.Path
			copyFile(t, tmpl.Path, db.Path)
		}
		mu.Lock()
		clones = append(clones, clone)
		mu.Unlock()
		writeClone(t, filepath.Join(f.dir, name), files, db)
		f.apps = append(f.apps, name)
	}
	f.watch = admin
	t.Logf("%s %s: %d applications of %d rows (%d failed, %d files), generated and cloned in %s; load %s",
		d, shape, n, g.Rows, g.FailedRows, len(g.Files), time.Since(start).Round(time.Second), loadAvg())
	return f
}

// admin is a pool on the fleet's server (nil for SQLite), for cloning,
// dropping and counting connections.
func (f *fleet) admin(t *testing.T) *sql.DB {
	t.Helper()
	if f.srv == nil {
		return nil
	}
	db := &dbtest.DB{Dialect: f.d, Host: f.srv.Host, Port: f.srv.Port, Username: f.srv.Username, Password: f.srv.Password}
	if f.d == dbtest.Postgres {
		db.Database = "postgres"
	}
	driver, dsn := db.DSN()
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	pool.SetMaxOpenConns(2)
	return pool
}

// cloneMariaDB copies every table of from into a new database to, inside
// the server (no rows pass through the client). CREATE TABLE ... LIKE keeps
// the columns and indexes, not the foreign key, which no read needs.
func cloneMariaDB(t *testing.T, admin *sql.DB, from, to string) {
	t.Helper()
	q := func(s string) string { return "`" + s + "`" }
	stmts := []string{"CREATE DATABASE " + q(to) + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"}
	for _, tb := range []string{"migrations", "operations", "operation_errors", "deferred_operations"} {
		stmts = append(stmts,
			"CREATE TABLE "+q(to)+"."+q(tb)+" LIKE "+q(from)+"."+q(tb),
			"INSERT INTO "+q(to)+"."+q(tb)+" SELECT * FROM "+q(from)+"."+q(tb),
			"ANALYZE TABLE "+q(to)+"."+q(tb))
	}
	for _, s := range stmts {
		if _, err := admin.Exec(s); err != nil {
			t.Fatalf("clone %s: %s: %v", to, s, err)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeClone writes an application whose .env points at db and whose
// operation and migration directories are links to the shared files.
func writeClone(t *testing.T, dir, files string, db *dbtest.DB) {
	t.Helper()
	dbtest.WriteApp(t, dir, db, dbtest.AppFiles{})
	for _, sub := range []string{"operations", "migrations"} {
		p := filepath.Join(dir, "database", sub)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(files, "database", sub), p); err != nil {
			t.Fatal(err)
		}
	}
}

// config writes a seqwatch.yaml over every application of the fleet, with
// its state in dir (files) or in the database at stateURL.
func (f *fleet) config(t *testing.T, dir, stateURL string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("on_first_run: silent\nchannels:\n  - name: console\n    console: {}\nstate:\n")
	if stateURL != "" {
		fmt.Fprintf(&b, "  postgres: %q\n", stateURL)
	} else {
		fmt.Fprintf(&b, "  path: %s\n", filepath.Join(dir, "state.json"))
	}
	b.WriteString("apps:\n")
	for _, a := range f.apps {
		fmt.Fprintf(&b, "  - name: %s\n    app: %s\n", a, filepath.Join(f.dir, a))
	}
	path := filepath.Join(dir, "seqwatch.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// conns counts the connections on the fleet's server that are not the
// counter's own.
func (f *fleet) conns() int {
	if f.watch == nil {
		return 0
	}
	var n int
	q := `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'seqwatch'`
	if f.d == dbtest.MySQL {
		q = `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB LIKE 'fleet\_%'`
	}
	if err := f.watch.QueryRow(q).Scan(&n); err != nil {
		return -1
	}
	return n
}

// traceOn turns on PostgreSQL's log of every connection and statement
// with its duration when SEQWATCH_FLEET_TRACE names a file, and returns
// what turns it off again and copies what was logged meanwhile to that
// file (one per fleet: the name gets the shape). It is how the time of
// check --config is taken apart per application: connect, each query,
// and the gaps between them (files, the client's own work).
func (f *fleet) traceOn(t *testing.T) func() {
	t.Helper()
	out := os.Getenv("SEQWATCH_FLEET_TRACE")
	if out == "" || f.d != dbtest.Postgres || f.srv.LogPath() == "" {
		return func() {}
	}
	set := func(on bool) {
		stmts := []string{"ALTER SYSTEM RESET log_min_duration_statement", "ALTER SYSTEM RESET log_connections",
			"ALTER SYSTEM RESET log_disconnections", "ALTER SYSTEM RESET log_line_prefix"}
		if on {
			stmts = []string{"ALTER SYSTEM SET log_min_duration_statement = 0", "ALTER SYSTEM SET log_connections = on",
				"ALTER SYSTEM SET log_disconnections = on", "ALTER SYSTEM SET log_line_prefix = '%m [%p] %d '"}
		}
		for _, s := range append(stmts, "SELECT pg_reload_conf()") {
			if _, err := f.watch.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	info, err := os.Stat(f.srv.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	set(true)
	return func() {
		set(false)
		b, err := os.ReadFile(f.srv.LogPath())
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(out, filepath.Ext(out)) + "." + string(f.shape) + filepath.Ext(out)
		if err := os.WriteFile(name, b[min(info.Size(), int64(len(b))):], 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("  the server's log of check --config is in %s:\n%s", name, summarizeTrace(string(b[min(info.Size(), int64(len(b))):])))
	}
}

// errNoServer: an SQLite fleet has no server whose time could be taken.
var errNoServer = errors.New("no server")

// seconds is d in seconds, or "–" when it was not measured (negative).
func seconds(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", d.Seconds())
}

// walLSN is the state server's WAL position, in bytes.
func walLSN(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// runFleet runs the binary once and measures it. wal, when set, is the
// state server's pool.
func (f *fleet) run(t *testing.T, wal *sql.DB, argv ...string) fleetRun {
	t.Helper()
	r := fleetRun{walBytes: -1, serverCPU: -1}
	var before int64
	if wal != nil {
		before = walLSN(t, wal)
	}
	var cpuBefore time.Duration
	cpuErr := errNoServer
	if f.srv != nil {
		cpuBefore, cpuErr = f.srv.CPU()
	}
	// Peak RSS from /usr/bin/time, not from this process's wait: Linux
	// carries the forking process's peak into its child's ru_maxrss, and
	// this test process holds hundreds of MB of generated history.
	rss := filepath.Join(t.TempDir(), "rss")
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", rss}, argv...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	stop := make(chan struct{})
	peak := make(chan int)
	go func() {
		most := 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				peak <- most
				return
			case <-tick.C:
				most = max(most, f.conns())
			}
		}
	}()
	start := time.Now()
	err := cmd.Run()
	r.wall = time.Since(start)
	if cpuErr == nil {
		if after, err := f.srv.CPU(); err == nil {
			r.serverCPU = after - cpuBefore
		}
	}
	close(stop)
	r.conns = <-peak
	if wal != nil {
		r.walBytes = walLSN(t, wal) - before
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", strings.Join(argv, " "), err)
	}
	if b, err := os.ReadFile(rss); err == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if kb, err := strconv.ParseFloat(lines[len(lines)-1], 64); err == nil {
			r.rssMB = kb / 1024
		}
	}
	// time(1) waits for the command: its children's times and blocks.
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		r.written = ru.Oublock * 512
	}
	if argv[1] == "run" && r.code != 0 {
		tail := out.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		t.Fatalf("%s exited %d:\n%s", strings.Join(argv[1:], " "), r.code, tail)
	}
	return r
}

// measureFleet measures one fleet with one kind of state and returns its
// table row; withCheck also times check --config, which reads no state.
func measureFleet(t *testing.T, bin string, f *fleet, stateKind string, stateSrv *dbtest.Server, runs int, withCheck bool) string {
	t.Helper()
	dir := t.TempDir()
	stateURL := ""
	var wal *sql.DB
	if stateKind == "postgres" {
		sdb := stateSrv.NewDatabase(t)
		stateURL, wal = sdb.URL, sdb.SQL
	}
	if keep := os.Getenv("SEQWATCH_FLEET_KEEP"); keep != "" && f.d == dbtest.SQLite {
		dir = filepath.Join(f.dir, stateKind)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := f.config(t, dir, stateURL)
	first := f.run(t, wal, bin, "run", "--once", "--config", cfg)
	t.Logf("%s %s %s: first tick %s (CPU %s, server CPU %s s), %.0f MB, %d connections at most; load %s", f.d, f.shape, stateKind, first.wall.Round(time.Millisecond), first.cpu.Round(time.Millisecond), seconds(first.serverCPU), first.rssMB, first.conns, loadAvg())
	var ticks []fleetRun
	for range runs {
		r := f.run(t, wal, bin, "run", "--once", "--config", cfg)
		t.Logf("  unchanged tick %s (CPU %s), %.0f MB, wrote %d B, WAL %d B, %d connections at most", r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond), r.rssMB, r.written, r.walBytes, r.conns)
		ticks = append(ticks, r)
	}
	slices.SortFunc(ticks, func(a, b fleetRun) int { return int(a.wall - b.wall) })
	tick := ticks[len(ticks)/2]
	check := fleetRun{walBytes: -1, serverCPU: -1}
	checkCol := "–"
	if withCheck {
		trace := f.traceOn(t)
		check = f.run(t, nil, bin, "check", "--config", cfg)
		trace()
		checkCol = fmt.Sprintf("%.1f (%.1f, %.0f)", check.wall.Seconds(), check.cpu.Seconds(), check.rssMB)
		t.Logf("  check --config %s (CPU %s, server CPU %s s, exit %d), %.0f MB, %d connections at most", check.wall.Round(time.Millisecond), check.cpu.Round(time.Millisecond), seconds(check.serverCPU), check.code, check.rssMB, check.conns)
	}
	writes := fmt.Sprintf("%.0f KB to disk", float64(tick.written)/1024)
	if tick.walBytes >= 0 {
		writes = fmt.Sprintf("%.0f KB WAL", float64(tick.walBytes)/1024)
	}
	load, _, _ := strings.Cut(loadAvg(), " ")
	return fmt.Sprintf("| %s | %s | %d × %d | %s | %.1f (%.1f, %.0f) | %.2f (%.2f, %.0f) | %s | %s | %s, %s | %d | %s |", f.d, f.shape, len(f.apps), f.rows, stateKind,
		first.wall.Seconds(), first.cpu.Seconds(), first.rssMB, tick.wall.Seconds(), tick.cpu.Seconds(), tick.rssMB, writes, checkCol,
		seconds(first.serverCPU), seconds(check.serverCPU), max(first.conns, tick.conns, check.conns), load)
}

// traceLine is one line of PostgreSQL's log with log_line_prefix
// '%m [%p] %d ': time, backend, database, message.
var traceLine = regexp.MustCompile(`^(\S+ \S+) \S+ \[(\d+)\] (\S+) (?:LOG|DETAIL):\s+(.*)$`)

// summarizeTrace takes apart a statement log (see traceOn) per
// application session: the connection's start to its authentication, the
// session's length, and the server's time in each statement (parse, bind
// and execute added up), averaged over the applications.
func summarizeTrace(log string) string {
	type session struct {
		db               string
		start, auth, end time.Time
		stmts            map[string]float64
		calls            map[string]int
	}
	parse := func(s string) time.Time {
		t, _ := time.Parse("2006-01-02 15:04:05.000", s)
		return t
	}
	sessions := map[string]*session{}
	for _, line := range strings.Split(log, "\n") {
		m := traceLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s := sessions[m[2]]
		if s == nil {
			s = &session{stmts: map[string]float64{}, calls: map[string]int{}}
			sessions[m[2]] = s
		}
		msg := m[4]
		switch {
		case strings.HasPrefix(msg, "connection received"):
			s.start = parse(m[1])
		case strings.HasPrefix(msg, "connection authorized"):
			s.auth, s.db = parse(m[1]), m[3]
		case strings.HasPrefix(msg, "disconnection"):
			s.end = parse(m[1])
		case strings.HasPrefix(msg, "duration: "):
			f := strings.Fields(msg)
			ms, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				continue
			}
			_, sql, _ := strings.Cut(strings.SplitN(msg, " ms ", 2)[1], ": ")
			key := strings.Join(strings.Fields(sql), " ")
			if len(key) > 60 {
				key = key[:60]
			}
			s.stmts[key] += ms
			s.calls[key]++
		}
	}
	var n int
	var connect, life, inSQL time.Duration
	total, calls := map[string]float64{}, map[string]int{}
	for _, s := range sessions {
		if !strings.HasPrefix(s.db, "fleet_") {
			continue
		}
		n++
		if !s.start.IsZero() && !s.auth.IsZero() {
			connect += s.auth.Sub(s.start)
		}
		if !s.start.IsZero() && !s.end.IsZero() {
			life += s.end.Sub(s.start)
		}
		for k, v := range s.stmts {
			total[k] += v
			calls[k] += s.calls[k]
			inSQL += time.Duration(v * float64(time.Millisecond))
		}
	}
	if n == 0 {
		return "no application sessions in the log"
	}
	var b strings.Builder
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	fmt.Fprintf(&b, "%d application sessions; per application: connect %.1f ms, session %.1f ms, server time in statements %.1f ms\n\n",
		n, per(connect), per(life), per(inSQL))
	b.WriteString("| ms per application | messages per application | statement |\n|---:|---:|---|\n")
	keys := make([]string, 0, len(total))
	for k := range total {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(total[b], total[a]) })
	for _, k := range keys[:min(len(keys), 12)] {
		fmt.Fprintf(&b, "| %.1f | %.1f | `%s` |\n", total[k]/float64(n), float64(calls[k])/float64(n), k)
	}
	return b.String()
}
