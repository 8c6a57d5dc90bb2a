package dbtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seqwatch/seqwatch/internal/testkit"
)

// StartPgBouncer runs PgBouncer in transaction mode in front of db's
// server, on a free loopback port, for the rest of the test, and returns
// a URL to db through it. It skips the test only when pgbouncer is not
// installed, and fails it then under CI (testkit.RequireBinary).
func StartPgBouncer(t testing.TB, db *DB) string {
	t.Helper()
	bin := testkit.RequireBinary(t, "/usr/sbin/pgbouncer")
	// Not t.TempDir: its parents are private to this user, and pgbouncer
	// refuses to run as root, so it runs as postgres (as dbtest runs the
	// server).
	dir, err := os.MkdirTemp("", "seqwatch-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(dir, "pgbouncer.ini")
	users := filepath.Join(dir, "userlist.txt")
	logPath := filepath.Join(dir, "pgbouncer.log")
	// A plain-text password in the auth file lets PgBouncer check the
	// client's SCRAM login and make its own to the server.
	files := map[string]string{
		users: fmt.Sprintf("%q %q\n", db.Username, db.Password),
		ini: fmt.Sprintf(`[databases]
%s = host=%s port=%d dbname=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %s
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
logfile = %s
pidfile = %s
`, db.Database, db.Host, db.Port, db.Database, port, users, logPath, filepath.Join(dir, "pgbouncer.pid")),
	}
	for p, content := range files {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, so pgbouncer must run as user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, ini, users} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	}
	cmd := exec.Command(bin, ini)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	logTail := func() string {
		b, _ := os.ReadFile(logPath)
		return out.String() + string(b)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
	})
	// Ready when it accepts connections: poll, bounded, as dbtest does
	// for the servers.
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for try := 0; ; try++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if try == 200 {
			t.Fatalf("pgbouncer not listening on %s: %v\n%s", addr, err, logTail())
		}
		select {
		case <-done:
			t.Fatalf("pgbouncer exited: %v\n%s", cmd.ProcessState, logTail())
		case <-time.After(25 * time.Millisecond):
		}
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(db.Username, db.Password),
		Host:     addr,
		Path:     "/" + db.Database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}
