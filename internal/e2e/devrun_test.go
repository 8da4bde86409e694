package e2e

import (
	"context"
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
	get := func(url string, set func(*http.Request)) *http.Response {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		require.NoError(t, err)
		set(req)
		resp, err := http.DefaultClient.Do(req)
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

	require.Contains(t, shell(find(`\n +(bin/photogen demo --url \S+ --webhook-secret \S+)\n`)[1]), "30 photos in")
	// River's producer logs its job counts on a 5 s tick when they changed: wait for one.
	time.Sleep(6 * time.Second)
	logs := p.Output()
	require.Zero(t, strings.Count(logs, "Producer job counts"), "River's producer line is DEBUG")
	require.Zero(t, strings.Count(logs, "Applied migration"), "River's migrator line is DEBUG")
	require.Equal(t, 1, strings.Count(logs, `"msg":"applied river migration","version":1,`))
	require.Equal(t, 1, strings.Count(logs, `"msg":"applied migration","version":1,`))
}
