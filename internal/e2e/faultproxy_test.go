//go:build chaos

package e2e

// This file is the chaos scenarios' TCP fault proxy: it stands between photogen's
// processes and what they depend on (PostgreSQL, the fake Replicate), on loopback, and
// resets, freezes, refuses, delays or answers 503 on command.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// proxyMode is what a faultProxy does with traffic.
type proxyMode int

const (
	passing     proxyMode = iota // forward both ways
	refusing                     // no listener: new connections are refused; existing ones were reset
	frozen                       // connections stay open and nothing moves either way (packets dropped)
	unavailable                  // every request answered 503, as a provider's outage page
)

// faultProxy forwards TCP from addr to target. Its faults start with Reset, Refuse,
// Freeze or Serve503 and end with Heal. It is safe for concurrent use.
type faultProxy struct {
	t      testing.TB
	target string
	addr   string

	mu    sync.Mutex
	mode  proxyMode
	ln    net.Listener
	conns map[net.Conn]struct{} // both ends of every link under way
	thaw  chan struct{}         // closed when a freeze ends
	delay time.Duration         // added to every chunk, each way (SetLatency)
}

// newFaultProxy listens on a free port of listenHost (127.0.0.1 unless a test's network
// namespace needs another of this machine's addresses) and forwards to target; it stops
// when t ends.
func newFaultProxy(t testing.TB, listenHost, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(listenHost, "0"))
	require.NoError(t, err)
	p := &faultProxy{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}, thaw: make(chan struct{})}
	close(p.thaw)
	p.serve(ln)
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.ln != nil {
			p.ln.Close()
			p.ln = nil
		}
		p.resetAll()
		if p.mode == frozen {
			close(p.thaw)
		}
		p.mode = refusing
	})
	return p
}

// serve accepts on ln until it is closed. Callers hold p.mu or own p alone.
func (p *faultProxy) serve(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
}

// handle serves one accepted connection as the mode says.
func (p *faultProxy) handle(c net.Conn) {
	p.mu.Lock()
	mode := p.mode
	p.mu.Unlock()
	if mode == unavailable {
		answer503(c)
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		reset(c)
		return
	}
	p.mu.Lock()
	if p.mode == refusing || p.mode == unavailable {
		p.mu.Unlock()
		reset(c)
		reset(up)
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(up, c) })
	wg.Go(func() { p.pipe(c, up) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// pipe copies from src to dst, each chunk no sooner than the proxy's latency after it was
// read (a reader stamps the chunks, so a burst is delayed once, not once per chunk),
// holding chunks (and the end of the stream) while the proxy is frozen, and closes both
// when either side ends.
func (p *faultProxy) pipe(dst, src net.Conn) {
	type chunk struct {
		b   []byte
		at  time.Time
		err error
	}
	chunks := make(chan chunk, 64)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			chunks <- chunk{b: buf[:n], at: time.Now().Add(p.latency()), err: err}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		time.Sleep(time.Until(c.at))
		p.waitThaw()
		if len(c.b) > 0 {
			if _, err := dst.Write(c.b); err != nil {
				break
			}
		}
		if c.err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	for range chunks { // the reader ends at src's close
	}
}

// latency is the delay now added to each chunk.
func (p *faultProxy) latency() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.delay
}

// SetLatency delays every chunk by d each way from now on (0 ends it), as a slow or
// distant network does; nothing is lost or reordered.
func (p *faultProxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// waitThaw returns once the proxy is not frozen.
func (p *faultProxy) waitThaw() {
	p.mu.Lock()
	thaw := p.thaw
	p.mu.Unlock()
	<-thaw
}

// answer503 reads one request's head from c and answers 503 with a JSON problem, as a
// provider's load balancer does during an outage, then closes c.
func answer503(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
	body := `{"title":"Service Unavailable","detail":"upstream unavailable","status":503}`
	_, _ = fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"+
		"Content-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

// reset closes c with a TCP RST (SO_LINGER 0), not a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// resetAll resets every link under way. Callers hold p.mu.
func (p *faultProxy) resetAll() {
	for c := range p.conns {
		reset(c)
		delete(p.conns, c)
	}
}

// set moves the proxy to mode: refusing and unavailable reset every link first (and
// refusing closes the listener), frozen holds every link, passing heals.
func (p *faultProxy) set(mode proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == mode {
		return
	}
	// Links are reset before a freeze ends: what was held then dies with them, as what a
	// dead network dropped never arrives.
	if mode == refusing || mode == unavailable {
		p.resetAll()
	}
	if p.mode == frozen {
		close(p.thaw)
	}
	if mode == frozen {
		p.thaw = make(chan struct{})
	}
	if mode == refusing && p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	if mode != refusing && p.ln == nil {
		p.relisten()
	}
	p.mode = mode
}

// relisten listens on the proxy's address again, retrying while the port is still held
// by a closing socket. Callers hold p.mu.
func (p *faultProxy) relisten() {
	var err error
	for range 100 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Errorf("fault proxy: listen on %s again: %v", p.addr, err)
}

// Reset resets every connection through the proxy and refuses new ones until Heal.
func (p *faultProxy) Reset() { p.set(refusing) }

// Freeze stops every byte either way, closing nothing, until Heal.
func (p *faultProxy) Freeze() { p.set(frozen) }

// Serve503 answers every new request 503 (existing connections are reset) until Heal.
func (p *faultProxy) Serve503() { p.set(unavailable) }

// Heal ends the fault: traffic passes again.
func (p *faultProxy) Heal() { p.set(passing) }
