// Package s3server runs a real S3-compatible server for tests, as testdb gives them a
// real PostgreSQL: Versity's S3 gateway (versitygw, Apache 2.0), a process of its own,
// listening on a free port of 127.0.0.1, with its objects in a temporary directory. The
// binary is the pinned build internal/dev/tools.sh makes from the Go module proxy
// (`make test` builds it once and sets VERSITYGW). A test that asks for a server and
// cannot have one fails and says why: there is no skip.
package s3server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The root account the server is started with, and its region. Tests sign with these;
// they guard nothing but a loopback port for the length of a test.
const (
	AccessKey = "photogen-test-access"
	SecretKey = "photogen-test-secret-key"
	Region    = "us-east-1"
)

// binary caches the path Binary found for this test binary: tools.sh is run once.
var binary struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the versitygw executable: $VERSITYGW when set (`make test`
// sets it), else what `internal/dev/tools.sh versitygw` prints, which builds the pinned
// version into the tools directory when it is missing (minutes on a cold build cache; a
// lock makes concurrent callers wait for one build). It fails t when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() { binary.path, binary.err = findBinary() })
	if binary.err != nil {
		t.Fatalf("s3server: no versitygw, the S3 server the tests run against: %v", binary.err)
	}
	return binary.path
}

func findBinary() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("VERSITYGW=%s: %w", p, err)
		}
		return p, nil
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "dev", "tools.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, script, "versitygw")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("internal/dev/tools.sh versitygw: %w\n%s", err, stderr.String())
	}
	p := strings.TrimSpace(stdout.String())
	if p == "" {
		return "", fmt.Errorf("internal/dev/tools.sh versitygw printed no path\n%s", stderr.String())
	}
	return p, nil
}

// Server is one running versitygw process and its data directory. Its methods are safe
// for concurrent use.
type Server struct {
	// URL is the server's endpoint, http://127.0.0.1:PORT; it stays the same across
	// Stop and Start.
	URL  string
	addr string
	bin  string
	data string
	log  *os.File // what the server prints, over all its runs

	mu   sync.Mutex
	proc *process // nil while stopped
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a server of t's own on a free loopback port, with its objects under a
// temporary directory, and waits until it answers HTTP. It is stopped when t ends, also
// when t fails (its output is then logged), and it dies with the test binary (its
// parent-death signal is SIGKILL). It fails t when the server cannot start.
func Start(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{bin: Binary(t), data: filepath.Join(dir, "data")}
	if err := os.Mkdir(s.data, 0o700); err != nil {
		t.Fatalf("s3server: %v", err)
	}
	log, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		t.Fatalf("s3server: %v", err)
	}
	s.log = log
	for range 3 { // another process may take the free port first
		s.addr, err = freeAddr()
		if err != nil {
			break
		}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		_ = log.Close()
		t.Fatalf("s3server: start versitygw: %v\n%s", err, s.Output())
	}
	s.URL = "http://" + s.addr
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("s3server: %v", err)
		}
		if t.Failed() {
			t.Logf("versitygw output:\n%s", s.Output())
		}
		_ = s.log.Close()
	})
	return s
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs the server on s.addr and s.data, and waits until it answers.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("already running")
	}
	cmd := exec.Command(s.bin, "--port", s.addr, "--access", AccessKey, "--secret", SecretKey,
		"--region", Region, "--quiet", "posix", s.data)
	// Nothing of the caller's environment (VGW_*, ROOT_ACCESS_KEY...) reaches it.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Any HTTP answer will do: an anonymous GET / is refused (403) once it serves.
		resp, err := client.Get("http://" + s.addr + "/")
		if err == nil {
			resp.Body.Close()
			if resp.Header.Get("Server") != "VERSITYGW" {
				_ = cmd.Process.Kill()
				<-p.done
				return fmt.Errorf("another server answers on %s", s.addr)
			}
			s.proc = p
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("versitygw exited: %v", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-p.done
			return fmt.Errorf("versitygw did not answer on %s within 30 s", s.addr)
		}
	}
}

// stop ends the server with SIGTERM (SIGKILL after 10 s) and waits for it; a stopped
// server is left as it is.
func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("versitygw did not stop on SIGTERM within 10 s: killed")
	}
}

// Stop stops the server, as an outage of the store would: connections are refused until
// Start. Its objects stay.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("s3server: %v", err)
	}
}

// Start starts a stopped server again on the same address and data, and waits until it
// answers. It fails t when it cannot.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("s3server: restart versitygw on %s: %v\n%s", s.addr, err, s.Output())
	}
}

// Output returns what the server printed so far, over all its runs.
func (s *Server) Output() string {
	b, err := os.ReadFile(s.log.Name())
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	return string(b)
}
