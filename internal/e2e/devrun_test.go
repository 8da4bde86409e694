package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/migrations"
)

// TestMakeRunShowsTheOperatorSide runs internal/dev/run.sh, what `make run` runs once it
// has a database, with nothing set but the database and a free port. The banner says
// where River UI, /metrics and the usage endpoints are, and each answers as it says:
// River UI with the printed password, the usage endpoints with a JWT from the printed
// dev-token command. The printed demo line completes a generation; then, at INFO, the
// log has each migration once and none of River's routine lines.
func TestMakeRunShowsTheOperatorSide(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	// An empty database, as on a first `make run`: run.sh migrates it.
	require.NoError(t, migrations.Down(context.Background(), db.Pool, slog.New(slog.DiscardHandler)))
	dir := t.TempDir() // run.sh runs bin/photogen from the current directory
	require.NoError(t, os.Mkdir(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.Symlink(binary, filepath.Join(dir, "bin", "photogen")))
	script, err := filepath.Abs("../dev/run.sh")
	require.NoError(t, err)
	cmd := exec.Command(script)
	cmd.Dir = dir
	p := startCmd(t, "run.sh", cmd, map[string]string{"DATABASE_URL": db.URL, "HTTP_ADDR": freeAddr(t)})
	require.Eventually(t, func() bool { return strings.Contains(p.Output(), "photogen is running at") },
		60*time.Second, 50*time.Millisecond, "no banner")
	banner := p.Output()
	find := func(re string) []string {
		m := regexp.MustCompile(re).FindStringSubmatch(banner)
		require.NotNil(t, m, "the banner has no %s:\n%s", re, banner)
		return m
	}
	ctx := context.Background()
	client := &http.Client{Transport: checked(t, nil)}
	get := func(url string, set func(*http.Request)) *http.Response {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		require.NoError(t, err)
		set(req)
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	shell := func(line string) string {
		c := exec.Command("bash", "-c", line)
		c.Dir, c.Env = dir, []string{"PATH=" + os.Getenv("PATH")}
		out, err := c.Output()
		require.NoError(t, err, "%s: %s", line, out)
		return string(out)
	}

	ui := find(`River UI +(http://\S+/admin/river/) +\(any user name, password (\S+)\)`)
	require.Equal(t, http.StatusOK, get(ui[1], func(r *http.Request) { r.SetBasicAuth("operator", ui[2]) }).StatusCode)
	require.Equal(t, http.StatusUnauthorized, get(ui[1], func(*http.Request) {}).StatusCode)

	metricsURL := find(`metrics +(http://\S+)`)[1]
	require.Equal(t, http.StatusOK, get(metricsURL, func(*http.Request) {}).StatusCode)

	usage := find(`usage endpoints +GET (http://\S+/api/usage),`)[1]
	token := strings.TrimSpace(shell(find(`\n +(AUTH_JWT_SECRET=\S+ bin/photogen dev-token \S+)\n`)[1]))
	require.Equal(t, http.StatusOK, get(usage, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }).StatusCode)

	find(`run the whole flow:\n +make demo\n`)
	demoOut := shell(find(`\n +\(or: (bin/photogen demo --url \S+ --webhook-secret \S+)\)\n`)[1])
	require.Contains(t, demoOut, "30 photos in")
	// The demo prints the page with the token in its fragment, and a status command to paste.
	page := regexp.MustCompile(`watch it in a browser: +(http://\S+)/#token=([A-Za-z0-9_-]{43})\n`).FindStringSubmatch(demoOut)
	require.NotNil(t, page, "no page URL in the demo's output:\n%s", demoOut)
	// ... and again last, below the 30 photo URLs.
	require.True(t, strings.HasSuffix(demoOut, "see them on the page:  "+page[1]+"/#token="+page[2]+"\n"), "the page is not the last line:\n%s", demoOut)
	pageResp := get(page[1]+"/", func(*http.Request) {})
	require.Equal(t, http.StatusOK, pageResp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", pageResp.Header.Get("Content-Type"))
	curl := regexp.MustCompile(`or ask for the status: +(curl .+)\n`).FindStringSubmatch(demoOut)
	require.NotNil(t, curl, "no status command in the demo's output:\n%s", demoOut)
	require.Contains(t, curl[1], "Bearer "+page[2])
	var st struct{ State string }
	require.NoError(t, json.Unmarshal([]byte(shell(curl[1])), &st))
	require.Equal(t, "completed", st.State)
	// River's producer logs its job counts on a 5 s tick when they changed: wait for one.
	time.Sleep(6 * time.Second)
	logs := p.Output()
	require.Zero(t, strings.Count(logs, "Producer job counts"), "River's producer line is DEBUG")
	require.Zero(t, strings.Count(logs, "Applied migration"), "River's migrator line is DEBUG")
	require.Equal(t, 1, strings.Count(logs, `"msg":"applied river migration","version":1,`))
	require.Equal(t, 1, strings.Count(logs, `"msg":"applied migration","version":1,`))
}
