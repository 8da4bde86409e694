// The driver's own tests: a page that misbehaves in every way the page tests watch for
// (a console error, an uncaught exception, an HTTP error, a refused request) is reported
// as failing, each fault by name; the same page with nothing wrong passes; and a page
// that never shows what is expected times out as a failure. They keep a passing page
// test meaningful: the driver sees what goes wrong.

package browser

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// capture is a testing.TB that keeps what Open reports instead of failing the test.
type capture struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

// Errorf records a failure report.
func (c *capture) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errors = append(c.errors, fmt.Sprintf(format, args...))
}

// invalidPage is the subscriber's page reduced to what the driver reads: it runs faults
// (a script's statements, which may await), then, a moment later, shows "This link is
// not valid". The moment lets the browser report the faults before the driver, seeing
// the page settled, takes what went wrong.
func invalidPage(faults string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>
<link rel="icon" href="data:,"></head><body>
<main id="main" data-state="loading"><h2 id="state">Loading</h2>
<progress id="progress" max="30" value="0"></progress>
<section id="invalid" role="alert" hidden><h2>This link is not valid</h2></section>
<ul id="photos"></ul><p aria-live="polite"></p></main>
<script>
(async () => {
` + faults + `
  await new Promise((done) => setTimeout(done, 300));
  document.getElementById('invalid').hidden = false;
  document.getElementById('main').dataset.state = 'invalid';
})();
</script></body></html>`
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestOpenReportsWhatGoesWrongInThePage(t *testing.T) {
	chromium := Chromium(t)
	refused := closedPort(t)
	// Each page is served at /NAME/, as Open opens base + "/".
	pages := map[string]string{
		"bad": strings.Join([]string{
			`console.error('boom from the page');`,
			`await fetch('/missing');`,
			`await fetch('http://` + refused + `/x').catch(() => {});`,
			`setTimeout(() => { throw new Error('uncaught in the page'); }, 0);`,
		}, "\n"),
		"allowed": `await fetch('/missing');`,
		"quiet":   ``,
	}
	mux := http.NewServeMux()
	for name, script := range pages {
		mux.HandleFunc("GET /"+name+"/{$}", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, invalidPage(script))
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	c := &capture{TB: t}
	res := Open(c, chromium, srv.URL+"/bad", 20*time.Second, Page{Invalid: true})
	all := strings.Join(res.Problems, "\n")
	require.False(t, res.OK)
	require.Equal(t, "This link is not valid", res.StateText)
	require.Contains(t, all, "console error: boom from the page")
	require.Contains(t, all, "page error: Error: uncaught in the page")
	require.Contains(t, all, "HTTP error: 404 from "+srv.URL+"/missing")
	require.Contains(t, all, "failed request: http://"+refused+"/x: net::ERR_CONNECTION_REFUSED")
	require.Contains(t, all, "console error: Failed to load resource")
	require.Len(t, c.errors, 1, "one failure report, with every problem in it")

	// The same page with only the allowed HTTP error: nothing to report.
	c = &capture{TB: t}
	res = Open(c, chromium, srv.URL+"/allowed", 20*time.Second,
		Page{Invalid: true, AllowHTTPErrors: []string{"/missing"}})
	require.True(t, res.OK, "%q", res.Problems)
	require.Empty(t, c.errors)
	require.Equal(t, []int{0}, res.Counts)

	// Photos expected, the link refused: a failure.
	c = &capture{TB: t}
	res = Open(c, chromium, srv.URL+"/quiet", 20*time.Second, Page{Token: "t"})
	require.False(t, res.OK)
	require.Contains(t, strings.Join(res.Problems, "\n"), "the page says the link is not valid")
	require.Len(t, c.errors, 1)
}
