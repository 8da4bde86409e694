package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// cluster is a throwaway PostgreSQL server of one test's own, for tests that restart
// the database: the shared server is never touched.
type cluster struct {
	bindir, dir, url string
	port             int
	listen           string // listen_addresses: 127.0.0.1, and a test's network namespaces' host ends
	maxConns         int    // max_connections; 0 leaves PostgreSQL's default (100)
}

// pgBindir finds pg_ctl: PHOTOGEN_PG_BINDIR (set by `make test`), else the newest
// /usr/lib/postgresql/*/bin.
func pgBindir(t testing.TB) string {
	if d := os.Getenv("PHOTOGEN_PG_BINDIR"); d != "" {
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	require.NotEmpty(t, dirs, "PostgreSQL binaries are required (set PHOTOGEN_PG_BINDIR)")
	return dirs[len(dirs)-1]
}

// pgCommand runs a PostgreSQL binary, as the postgres user when we are root (initdb
// refuses root).
func pgCommand(bindir, name string, args ...string) *exec.Cmd {
	path := filepath.Join(bindir, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// newCluster initialises and starts a cluster with 200 connections on 127.0.0.1, stopped
// and removed when t ends.
func newCluster(t testing.TB) *cluster {
	t.Helper()
	return newClusterOn(t, 200)
}

// newClusterOn is newCluster with max_connections maxConns (0: PostgreSQL's default),
// listening on 127.0.0.1 and on each of also (addresses of this machine, such as the host
// end of a test's network namespace).
func newClusterOn(t testing.TB, maxConns int, also ...string) *cluster {
	t.Helper()
	parent, err := os.MkdirTemp("", "photogen-e2e-pg-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(parent, 0o755))
	c := &cluster{bindir: pgBindir(t), dir: filepath.Join(parent, "data"), maxConns: maxConns,
		listen: strings.Join(append([]string{"127.0.0.1"}, also...), ",")}
	require.NoError(t, os.Mkdir(c.dir, 0o700))
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(t, err)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(c.dir, uid, gid))
		require.NoError(t, os.Chown(parent, uid, gid))
	}
	out, err := pgCommand(c.bindir, "initdb", "-D", c.dir, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput()
	require.NoError(t, err, "initdb: %s", out)
	// initdb trusts loopback only: trust each extra address's /30 (a namespace's veth pair) too.
	for _, addr := range also {
		_, pair, err := net.ParseCIDR(addr + "/30")
		require.NoError(t, err)
		hba, err := os.OpenFile(filepath.Join(c.dir, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = fmt.Fprintf(hba, "host all all %s trust\n", pair)
		require.NoError(t, errors.Join(err, hba.Close()))
	}
	c.port = freePort(t)
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	t.Cleanup(func() {
		_ = pgCommand(c.bindir, "pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(parent)
	})
	c.ctl(t, "start")
	return c
}

// ctl runs pg_ctl start, restart or stop and waits until the server answers (or is gone).
func (c *cluster) ctl(t testing.TB, action string) {
	t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=%s -c port=%d -c unix_socket_directories=%s -c fsync=off",
		c.listen, c.port, filepath.Dir(c.dir))
	if c.maxConns > 0 {
		opts += fmt.Sprintf(" -c max_connections=%d", c.maxConns)
	}
	out, err := pgCommand(c.bindir, "pg_ctl", "-D", c.dir, "-l", filepath.Join(filepath.Dir(c.dir), "server.log"),
		"-o", opts, "-m", "fast", "-w", "-t", "60", action).CombinedOutput()
	require.NoError(t, err, "pg_ctl %s: %s", action, out)
}

// createDatabase creates name in the cluster and returns its URL.
func (c *cluster) createDatabase(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(t, err)
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

func freePort(t testing.TB) int {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := splitHostPort(addr)
	return port
}
