package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
	"photogen/internal/testdb"
	"photogen/openapi/contract"
)

const webhookSecret = "whsec_e2e_test_secret"

// binary is the photogen executable built once for this test binary by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "photogen-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "photogen")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "photogen/cmd/photogen")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build photogen:", err)
		os.Exit(1)
	}
	code := testdb.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one photogen process; its combined output is kept for assertions.
type proc struct {
	addr string // the worker's WORKER_ADDR
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output returns what the process wrote so far.
func (p *proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// start runs `photogen <mode>` with env on top of a minimal environment, stops it with
// SIGTERM when the test ends, and fails the test if it then exits badly.
func start(t testing.TB, mode string, env map[string]string) *proc {
	t.Helper()
	return startCmd(t, mode, exec.Command(binary, mode), env)
}

// startCmd is start for any command (a script that execs photogen); name is for messages.
func startCmd(t testing.TB, name string, cmd *exec.Cmd, env map[string]string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{}), cmd: cmd}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LOG_LEVEL=info"}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	require.NoError(t, p.cmd.Start())
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(60 * time.Second):
			_ = p.cmd.Process.Kill()
			t.Errorf("%s did not stop on SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.Output())
		}
	})
	return p
}

// Signal sends sig to the process if it still runs.
func (p *proc) Signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// Wait waits for the process to exit.
func (p *proc) Wait(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("process did not exit within %s", d)
	}
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	return host, port, err
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// stack is a database, a fake Replicate, and the env that points photogen at both.
type stack struct {
	db       *testdb.DB
	fake     *fakereplicate.Server
	env      map[string]string
	stopFake func()
}

func newStack(t testing.TB, fc fakereplicate.Config, extra map[string]string) *stack {
	t.Helper()
	db := testdb.New(t)
	// Replicate's webhooks to the api are checked too: each delivery and the api's answer.
	fc.WebhookTransport = checker(t)
	fake := fakereplicate.New(fc)
	ts := httptest.NewServer(fake)
	stop := sync.OnceFunc(func() { ts.Close(); fake.Close() })
	t.Cleanup(stop)
	apiAddr := freeAddr(t)
	env := map[string]string{
		"HTTP_ADDR":             apiAddr,
		"METRICS_ADDR":          freeAddr(t),
		"STORAGE_DIR":           t.TempDir(),
		"PHOTO_BASE_URL":        "http://" + apiAddr,
		"PHOTO_NAME_SECRET":     "e2e-photo-name-secret",
		"DATABASE_URL":          db.URL,
		"STRIPE_WEBHOOK_SECRET": webhookSecret,
		"REPLICATE_API_TOKEN":   "r8_e2e_token",
		"REPLICATE_BASE_URL":    ts.URL + "/v1",
		// The fake calls the api back, as Replicate calls a public URL. Nothing else is
		// tuned: the processes run with the defaults an operator gets.
		"REPLICATE_WEBHOOK_URL":    "http://" + apiAddr + "/webhooks/replicate",
		"REPLICATE_WEBHOOK_SECRET": fake.WebhookSecret(),
	}
	for k, v := range extra {
		env[k] = v
	}
	return &stack{db: db, fake: fake, env: env, stopFake: stop}
}

// startAPI starts an api process and waits until /readyz answers 200.
func (s *stack) startAPI(t testing.TB) (*proc, *demo.Client) {
	t.Helper()
	p := start(t, "api", s.env)
	return p, s.readyClient(t)
}

// readyClient returns a client of the stack's api (its exchanges checked against the
// OpenAPI document) once /readyz answers 200.
func (s *stack) readyClient(t testing.TB) *demo.Client {
	t.Helper()
	addr := s.env["HTTP_ADDR"]
	c := &demo.Client{BaseURL: "http://" + addr, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: checked(t, nil)}}
	require.Eventually(t, func() bool {
		resp, err := c.Do(context.Background(), http.MethodGet, "/readyz", nil, nil)
		return err == nil && resp.Status == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "api never became ready")
	return c
}

// startWorker starts a worker process, its health and metrics on a port of its own
// (proc.addr).
func (s *stack) startWorker(t testing.TB) *proc {
	t.Helper()
	return s.startWorkerIn(t, nil, nil)
}

// startWorkerIn is startWorker with over's variables replacing the stack's (a worker that
// reaches PostgreSQL or the provider through a fault proxy), run under prefix when it is
// not empty: a command that execs the rest, such as `ip netns exec NAME`.
func (s *stack) startWorkerIn(t testing.TB, prefix []string, over map[string]string) *proc {
	t.Helper()
	env := map[string]string{"WORKER_ADDR": freeAddr(t)}
	for k, v := range s.env {
		env[k] = v
	}
	for k, v := range over {
		env[k] = v
	}
	cmd := exec.Command(binary, "worker")
	if len(prefix) > 0 {
		cmd = exec.Command(prefix[0], append(prefix[1:], binary, "worker")...)
	}
	p := startCmd(t, "worker", cmd, env)
	p.addr = env["WORKER_ADDR"]
	return p
}

// waitState polls the status endpoint until state is reached.
func waitState(t *testing.T, c *demo.Client, token, state string, within time.Duration) demo.Status {
	t.Helper()
	var last demo.Status
	reached := assert.Eventually(t, func() bool {
		st, err := c.GetStatus(context.Background(), token)
		if err != nil {
			return false
		}
		last = st
		return st.State == state
	}, within, 50*time.Millisecond)
	// The message is built after the wait, so that it shows the last status seen.
	require.True(t, reached, "state %q not reached; last: %+v", state, last)
	return last
}

// runCommand runs `photogen args...` to completion with env and returns its output. A
// command still running after a minute is killed (and returns an error).
func runCommand(t testing.TB, env map[string]string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// lastAddress numbers the loopback addresses fromOwnAddress hands out.
var lastAddress atomic.Uint32

// fromOwnAddress returns a client of c's api whose connections come from a loopback
// address of its own (127.1.0.1, 127.1.0.2, ...): a person signing up, as each of the
// tests' subscribers is, has an address of their own, and the api limits sign-ups per
// address (ten at once, then ten a minute). Its exchanges are checked as startAPI's are.
func fromOwnAddress(t testing.TB, c *demo.Client) *demo.Client {
	n := lastAddress.Add(1)
	ip := net.IPv4(127, 1+byte(n>>16), byte(n>>8), byte(n))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
	return &demo.Client{BaseURL: c.BaseURL, HTTP: &http.Client{Timeout: 30 * time.Second,
		Transport: checked(t, &http.Transport{DialContext: d.DialContext})}}
}

// document is the api's OpenAPI document (openapi/openapi.yaml, embedded: a constant), built
// once for the test binary.
var document = sync.OnceValues(contract.NewValidator)

// checked returns next (http.DefaultTransport when nil) wrapped in openapi's validating
// Transport: every request the test sends to the part of the URL space the document
// describes, and every answer, is checked against the document, and each mismatch fails t
// when it ends (see checker). Every client of the api in these tests goes through it.
func checked(t testing.TB, next http.RoundTripper) http.RoundTripper {
	t.Helper()
	return checker(t)(next)
}

// checker returns what checked wraps with, for a transport built elsewhere (the fake
// Replicate's webhook client). The mismatches are collected, not reported as they happen:
// an exchange may end after the test's last line (a webhook in flight), when t.Errorf would
// panic; a cleanup fails t on every one recorded, once the processes have stopped.
//
// A benchmark's transport is left as it is: checking on the client would add the
// validator's time to every latency the benchmark measures. The tests send the same
// requests through the check.
func checker(t testing.TB) func(http.RoundTripper) http.RoundTripper {
	t.Helper()
	if _, bench := t.(*testing.B); bench {
		return func(next http.RoundTripper) http.RoundTripper { return next }
	}
	v, err := document()
	require.NoError(t, err, "the OpenAPI document does not build")
	rec := &violations{}
	t.Cleanup(func() {
		for _, e := range rec.list() {
			t.Errorf("%s", e)
		}
	})
	return func(next http.RoundTripper) http.RoundTripper { return v.Transport(next, rec) }
}

// violations keeps what openapi's Transport reports; it is safe for concurrent use.
type violations struct {
	mu   sync.Mutex
	errs []string
}

func (v *violations) Helper() {}

func (v *violations) Errorf(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

func (v *violations) list() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.errs...)
}
