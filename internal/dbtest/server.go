package dbtest

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The environment variables that point the tests at external servers
// instead of starting local ones.
const (
	EnvPostgresURL = "SEQWATCH_TEST_POSTGRES_URL"
	EnvMySQLURL    = "SEQWATCH_TEST_MYSQL_URL"
)

// Setup limits. These bound server start-up and shutdown; they are not
// assertions about speed.
const (
	readyTries    = 600
	readyInterval = 50 * time.Millisecond
	stopTimeout   = 60 * time.Second
)

// Server is a PostgreSQL or MariaDB server, either started by dbtest (in a
// temporary directory, on a free port of 127.0.0.1) or an external one named
// by SEQWATCH_TEST_POSTGRES_URL / SEQWATCH_TEST_MYSQL_URL.
type Server struct {
	Dialect  Dialect
	Host     string
	Port     int
	Username string
	Password string

	external bool
	adminDB  string // database the admin pool connects to
	admin    *sql.DB
	dir      string // temporary directory, removed by close

	launch
	logPath string

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{} // closed when proc has exited
}

// launch is how to run a server process and stop it.
type launch struct {
	bin     string
	args    []string
	cred    *syscall.Credential
	stopSig os.Signal
}

// NewPostgresServer starts a PostgreSQL server for this test alone, so the
// test may stop and restart it (Stop, Start: the port stays the same). It is
// stopped and removed when the test ends. It ignores
// SEQWATCH_TEST_POSTGRES_URL: an external server cannot be stopped.
func NewPostgresServer(t testing.TB) *Server {
	t.Helper()
	return NewServer(t, Postgres)
}

// NewServer is NewPostgresServer for either server dialect (Postgres or
// MySQL, that is MariaDB).
func NewServer(t testing.TB, d Dialect) *Server {
	t.Helper()
	if d != Postgres && d != MySQL {
		t.Fatalf("dbtest: NewServer: %q is not a server dialect", d)
	}
	s, err := startServer(d, false)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Errorf("dbtest: stopping %s server: %v", d, err)
		}
	})
	return s
}

// startServer returns an external server when the environment names one and
// allowExternal is set, and starts a local one otherwise.
func startServer(d Dialect, allowExternal bool) (*Server, error) {
	env := EnvPostgresURL
	if d == MySQL {
		env = EnvMySQLURL
	}
	if raw := os.Getenv(env); raw != "" && allowExternal {
		return externalServer(d, env, raw)
	}
	switch d {
	case Postgres:
		return startPostgres()
	case MySQL:
		return startMariaDB()
	}
	return nil, fmt.Errorf("%q is not a server dialect", d)
}

func externalServer(d Dialect, env, raw string) (*Server, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// The URL holds a password: do not echo it.
		return nil, fmt.Errorf("%s is not a valid URL", env)
	}
	s := &Server{Dialect: d, external: true, Host: u.Hostname(), Username: u.User.Username()}
	s.Password, _ = u.User.Password()
	s.adminDB = strings.TrimPrefix(u.Path, "/")
	port := u.Port()
	switch {
	case port != "":
		if s.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("%s: bad port %q", env, port)
		}
	case d == Postgres:
		s.Port = 5432
	default:
		s.Port = 3306
	}
	if s.adminDB == "" && d == Postgres {
		s.adminDB = "postgres"
	}
	if err := s.openAdmin(); err != nil {
		return nil, fmt.Errorf("%s: %w", env, err)
	}
	return s, nil
}

// Stop stops the server (a fast shutdown) and waits for it to exit. Its
// data stay; Start brings it back on the same port.
func (s *Server) Stop() error {
	if s.external {
		return errors.New("dbtest: an external server cannot be stopped")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

// Start starts a stopped server again, on the same port, and waits until it
// accepts connections.
func (s *Server) Start() error {
	if s.external {
		return errors.New("dbtest: an external server cannot be started")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil
	}
	if err := s.startLocked(nil); err != nil {
		return err
	}
	// The admin pool's connections died with the old process; start afresh
	// so the database drops at cleanup work.
	old := s.admin
	if err := s.openAdmin(); err != nil {
		return err
	}
	old.Close()
	return nil
}

// NewDatabase creates a fresh, empty database on the server, dropped when
// the test ends.
func (s *Server) NewDatabase(t testing.TB) *DB {
	t.Helper()
	name := randomName()
	var create, drop string
	switch s.Dialect {
	case Postgres:
		create = `CREATE DATABASE "` + name + `"`
		drop = `DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`
	case MySQL:
		create = "CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
		drop = "DROP DATABASE IF EXISTS `" + name + "`"
	}
	if _, err := s.admin.Exec(create); err != nil {
		t.Fatalf("dbtest: create %s database: %v", s.Dialect, err)
	}
	db := &DB{
		Dialect:  s.Dialect,
		Host:     s.Host,
		Port:     s.Port,
		Database: name,
		Username: s.Username,
		Password: s.Password,
	}
	db.URL = db.laravelURL()
	// Registered before open's Close, so it runs after it.
	t.Cleanup(func() {
		if _, err := s.admin.Exec(drop); err != nil {
			// A dedicated server the test left stopped cannot drop it; the
			// whole directory goes anyway.
			t.Logf("dbtest: drop %s database %s: %v", s.Dialect, name, err)
		}
	})
	db.open(t)
	return db
}

// close stops a local server and removes its directory.
func (s *Server) close() error {
	if s.admin != nil {
		s.admin.Close()
	}
	if s.external {
		return nil
	}
	s.mu.Lock()
	err := s.stopLocked()
	s.mu.Unlock()
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

// openAdmin opens the pool used to create and drop databases and waits until
// the server answers.
func (s *Server) openAdmin() error {
	tmp := &DB{Dialect: s.Dialect, Host: s.Host, Port: s.Port, Database: s.adminDB, Username: s.Username, Password: s.Password}
	driver, dsn := tmp.DSN()
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	if err := pool.Ping(); err != nil {
		pool.Close()
		return fmt.Errorf("connect to %s server at %s:%d: %w", s.Dialect, s.Host, s.Port, err)
	}
	s.admin = pool
	return nil
}

// startLocked starts the server process and waits until ready (nil: an
// admin login) succeeds.
func (s *Server) startLocked(ready func() error) error {
	if ready == nil {
		ready = s.ping
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Pdeathsig: if the test binary dies (timeout, ^C) the server goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.proc, s.done = cmd, done
	if err := s.waitReady(ready); err != nil {
		s.stopLocked()
		return err
	}
	return nil
}

// ping connects once as the admin user.
func (s *Server) ping() error {
	tmp := &DB{Dialect: s.Dialect, Host: s.Host, Port: s.Port, Database: s.adminDB, Username: s.Username, Password: s.Password}
	driver, dsn := tmp.DSN()
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	return pool.Ping()
}

// waitReady polls ready until it succeeds, the process exits or the tries
// run out.
func (s *Server) waitReady(ready func() error) error {
	var last error
	for range readyTries {
		if last = ready(); last == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("%s server exited during start-up: %v\n%s", s.Dialect, s.proc.ProcessState, s.logTail())
		case <-time.After(readyInterval):
		}
	}
	return fmt.Errorf("%s server not ready after %d tries: %v\n%s", s.Dialect, readyTries, last, s.logTail())
}

func (s *Server) stopLocked() error {
	if s.proc == nil {
		return nil
	}
	proc, done := s.proc, s.done
	s.proc, s.done = nil, nil
	select {
	case <-done:
		return nil
	default:
	}
	if err := proc.Process.Signal(s.stopSig); err != nil {
		return fmt.Errorf("signal %s server: %w", s.Dialect, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(stopTimeout):
		proc.Process.Kill()
		<-done
		return fmt.Errorf("%s server did not stop within %s; killed", s.Dialect, stopTimeout)
	}
}

// LogPath is the server's log file (the server's standard error), for a
// benchmark that turns on statement logging; "" for an external server.
func (s *Server) LogPath() string {
	if s.external {
		return ""
	}
	return s.logPath
}

// CPU is the processor time (user and system) the server has used so far,
// its exited children's included (PostgreSQL's backends, reaped by the
// postmaster; MariaDB's threads are the process's own), read from Linux's
// /proc, for a benchmark to report the server's work beside its wall
// time. An external or stopped server has none to tell (an error).
func (s *Server) CPU() (time.Duration, error) {
	s.mu.Lock()
	proc := s.proc
	s.mu.Unlock()
	if s.external || proc == nil || proc.Process == nil {
		return 0, errors.New("dbtest: the server's processor time is known only for a running local server")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", proc.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("dbtest: the server's processor time: %w", err)
	}
	// The command (field 2) is in parentheses and may hold spaces; utime,
	// stime, cutime and cstime are fields 14-17, in clock ticks (USER_HZ,
	// 100 on Linux).
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	f := strings.Fields(rest)
	if len(f) < 15 {
		return 0, errors.New("dbtest: the server's processor time: /proc stat is too short")
	}
	var ticks int64
	for _, v := range f[11:15] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("dbtest: the server's processor time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// logTail is the end of the server's log, for start-up errors.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "server log " + s.logPath + ":\n" + string(b)
}

// ownerFile, in a server directory, holds the pid of the test binary that
// made it.
const ownerFile = "owner.pid"

// serverDir makes a temporary directory for a server. It first removes
// directories of earlier test binaries that died without cleaning up
// (killed, or timed out: their servers died with them, by Pdeathsig).
func serverDir(prefix string) (string, error) {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, d := range old {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // not ours, or still being set up
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		// Signal 0 probes for the process; ESRCH means it is gone.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// runAs returns the credential to run a server as when we are root (the
// servers refuse to run as root), chowning dir to that user.
func runAs(name, dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, so the server must run as user %q: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// runSetup runs a one-off set-up command (initdb, mariadb-install-db).
func runSetup(dir string, cred *syscall.Credential, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(bin), err, out)
	}
	return nil
}

// newPassword returns a random password (hex, so it needs no quoting in
// URLs, DSNs or .env files).
func newPassword() string {
	return "pw" + strings.TrimPrefix(randomName(), "seqwatch_test_")
}

// findPostgres returns the bin directory of the newest PostgreSQL under
// /usr/lib/postgresql.
func findPostgres() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	type found struct {
		ver int
		dir string
	}
	var all []found
	for _, m := range matches {
		dir := filepath.Dir(m)
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			all = append(all, found{v, dir})
		}
	}
	if len(all) == 0 {
		return "", fmt.Errorf("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install them (apt-get install -y postgresql-15) or set %s to a server URL (postgres://user:pass@host:port/postgres)", EnvPostgresURL)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ver > all[j].ver })
	return all[0].dir, nil
}

func startPostgres() (*Server, error) {
	bin, err := findPostgres()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := serverDir("seqwatch-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Dialect: Postgres, Host: "127.0.0.1", Port: port,
		Username: "seqwatch", Password: newPassword(),
		adminDB: "postgres", dir: dir,
		launch:  launch{stopSig: syscall.SIGINT}, // fast shutdown
		logPath: filepath.Join(dir, "server.log"),
	}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start PostgreSQL: %w", err)
	}
	pwfile := filepath.Join(dir, "pwfile")
	sock := filepath.Join(dir, "sock")
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if err := os.Mkdir(sock, 0o700); err != nil {
		return fail(err)
	}
	if s.cred, err = runAs("postgres", dir); err != nil {
		return fail(err)
	}
	// Password authentication, so that a wrong password really fails.
	err = runSetup(dir, s.cred, filepath.Join(bin, "initdb"),
		"-D", data, "-U", s.Username, "--pwfile="+pwfile,
		"-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
	if err != nil {
		return fail(err)
	}
	s.bin = filepath.Join(bin, "postgres")
	s.args = []string{
		"-D", data, "-k", sock, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB",
		"-c", "log_min_messages=warning",
	}
	if err := s.startLocked(nil); err != nil {
		return fail(err)
	}
	if err := s.openAdmin(); err != nil {
		s.stopLocked()
		return fail(err)
	}
	return s, nil
}

// lookBin finds a program on PATH or in the sbin directories root's PATH
// has and others' may lack.
func lookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func startMariaDB() (*Server, error) {
	install, err1 := lookBin("mariadb-install-db")
	server, err2 := lookBin("mariadbd")
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("MariaDB server binaries missing (%v): install them (apt-get install -y mariadb-server) or set %s to a server URL (mysql://user:pass@host:port/)", err, EnvMySQLURL)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := serverDir("seqwatch-mariadb-")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Dialect: MySQL, Host: "127.0.0.1", Port: port,
		Username: "seqwatch", Password: newPassword(),
		dir: dir, launch: launch{stopSig: syscall.SIGTERM},
		logPath: filepath.Join(dir, "server.log"),
	}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start MariaDB: %w", err)
	}
	data := filepath.Join(dir, "data")
	sock := filepath.Join(dir, "sock")
	if err := os.Mkdir(data, 0o700); err != nil {
		return fail(err)
	}
	root := os.Geteuid() == 0
	if root {
		// Run as mysql ourselves (as well as --user=mysql) so the kernel's
		// parent-death signal survives: mariadbd dropping privileges itself
		// would clear it.
		if s.cred, err = runAs("mysql", dir); err != nil {
			return fail(err)
		}
	}
	args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}
	if root {
		args = append(args, "--user=mysql")
	}
	if err := runSetup(dir, nil, install, args...); err != nil {
		return fail(err)
	}
	s.bin = server
	s.args = []string{
		"--no-defaults", "--datadir=" + data, "--socket=" + sock,
		"--port=" + strconv.Itoa(port), "--bind-address=127.0.0.1", "--skip-networking=0",
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"), "--tmpdir=" + dir,
		"--innodb-flush-log-at-trx-commit=0", "--skip-log-bin", "--skip-name-resolve",
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--max-connections=500",
		// TIMESTAMP columns convert through the session zone; with the
		// host's zone a wall-clock value in a DST gap would shift, making
		// tests depend on the CI machine's TZ.
		"--default-time-zone=+00:00",
	}
	if root {
		s.args = append(s.args, "--user=mysql")
	}
	// Until the seqwatch user exists, readiness is a root login over the
	// socket (root has no password: --auth-root-authentication-method=normal).
	rootDSN := "root@unix(" + sock + ")/"
	s.adminDB = ""
	pingRoot := func() error {
		pool, err := sql.Open("mysql", rootDSN)
		if err != nil {
			return err
		}
		defer pool.Close()
		return pool.Ping()
	}
	if err := s.startLocked(pingRoot); err != nil {
		return fail(err)
	}
	if err := s.createMariaDBUser(rootDSN); err != nil {
		s.stopLocked()
		return fail(err)
	}
	if err := s.openAdmin(); err != nil {
		s.stopLocked()
		return fail(err)
	}
	return s, nil
}

// createMariaDBUser creates seqwatch@% and seqwatch@localhost with a
// password and all privileges, so tests log in over TCP with a password.
func (s *Server) createMariaDBUser(rootDSN string) error {
	pool, err := sql.Open("mysql", rootDSN)
	if err != nil {
		return err
	}
	defer pool.Close()
	for _, host := range []string{"%", "localhost"} {
		for _, q := range []string{
			fmt.Sprintf("CREATE USER '%s'@'%s' IDENTIFIED BY '%s'", s.Username, host, s.Password),
			fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%s' WITH GRANT OPTION", s.Username, host),
		} {
			if _, err := pool.Exec(q); err != nil {
				// The statement holds the password: report the error only.
				return fmt.Errorf("create MariaDB user %s@%s: %w", s.Username, host, err)
			}
		}
	}
	return nil
}
