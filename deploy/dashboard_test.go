// This file checks the Grafana dashboard: a well-formed model whose panels all query
// the Prometheus data source chosen in its variable, PromQL that promtool parses, and
// a panel for every metric an alert reads.

package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// datasourceVar is the dashboard variable that picks the Prometheus data source.
const datasourceVar = "${datasource}"

func TestDashboardIsWellFormed(t *testing.T) {
	t.Parallel()
	d, err := parseDashboard(dashboardJSON)
	require.NoError(t, err)
	require.Equal(t, "photogen", d.UID)
	require.NotEmpty(t, d.Title)
	require.Positive(t, d.SchemaVersion)

	var hasVar bool
	for _, v := range d.Templating.List {
		if v.Name == "datasource" {
			require.Equal(t, "datasource", v.Type)
			require.Equal(t, "prometheus", v.Query, "the variable lists Prometheus data sources")
			hasVar = true
		}
	}
	require.True(t, hasVar, "a datasource variable")

	ids := map[int]bool{}
	for _, p := range d.allPanels() {
		require.Positive(t, p.ID, "%q has an id", p.Title)
		require.False(t, ids[p.ID], "panel id %d is used twice", p.ID)
		ids[p.ID] = true
		require.NotEmpty(t, p.Title, "panel %d has a title", p.ID)
		g := p.GridPos
		require.True(t, g.W > 0 && g.H > 0 && g.X >= 0 && g.X+g.W <= 24, "%q: gridPos %+v out of the 24 columns", p.Title, g)
		if p.Type == "row" {
			continue
		}
		require.NotNil(t, p.Datasource, "%q has a data source", p.Title)
		require.Equal(t, datasourceRef{Type: "prometheus", UID: datasourceVar}, *p.Datasource, "%q", p.Title)
		require.NotEmpty(t, p.Targets, "%q has a query", p.Title)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			require.NotEmpty(t, tg.RefID, "%q", p.Title)
			require.False(t, refs[tg.RefID], "%q: refId %s twice", p.Title, tg.RefID)
			refs[tg.RefID] = true
			require.NotEmpty(t, strings.TrimSpace(tg.Expr), "%q %s has an expr", p.Title, tg.RefID)
			if tg.Datasource != nil {
				require.Equal(t, datasourceVar, tg.Datasource.UID, "%q %s", p.Title, tg.RefID)
			}
		}
	}
}

func TestDashboardQueriesParse(t *testing.T) {
	t.Parallel()
	promtool := findPromtool(t)
	d, err := parseDashboard(dashboardJSON)
	require.NoError(t, err)
	qs := d.queries()
	require.NotEmpty(t, qs)

	out, err := checkQueries(t, promtool, qs)
	require.NoError(t, err, "promtool check rules refused a dashboard query:\n%s", out)

	// The check itself must be able to fail.
	_, err = checkQueries(t, promtool, []query{{Panel: "broken", RefID: "A", Expr: "sum(rate(photogen_jobs[$__rate_interval])"}})
	require.Error(t, err, "promtool accepted an unbalanced expression")
}

func TestDashboardMetricNames(t *testing.T) {
	t.Parallel()
	names, err := DashboardMetricNames()
	require.NoError(t, err)
	require.True(t, slices.IsSorted(names))
	for _, want := range []string{
		"photogen_jobs",
		"photogen_queue_oldest_available_seconds",
		"photogen_generation_duration_seconds_bucket",
		"photogen_predictions_in_flight",
		"photogen_predictions_finished_total",
		"photogen_provider_request_duration_seconds_count",
		"photogen_prediction_spend_usd_total",
		"photogen_replicate_webhooks_total",
		"photogen_photo_store_delay_seconds_bucket",
		"photogen_http_requests_total",
		"photogen_http_request_duration_seconds_bucket",
	} {
		require.Contains(t, names, want)
	}
	require.NotContains(t, names, "up", "Prometheus's own series are not on a scrape")

	require.Equal(t,
		[]string{"photogen_a_total", "photogen_b_bucket"},
		metricNames(`sum(rate(photogen_a_total{job="photogen_not_a_metric"}[5m])) / histogram_quantile(0.5, photogen_b_bucket) + up`))
}

func TestDashboardShowsWhatAlertsRead(t *testing.T) {
	t.Parallel()
	names, err := DashboardMetricNames()
	require.NoError(t, err)
	for _, a := range readAlerts(t) {
		for _, m := range metricNames(a.Expr) {
			require.Contains(t, names, m, "%s reads %s, which no dashboard panel shows", a.Alert, m)
		}
	}
}

// findPromtool returns $PROMTOOL (make lint sets it) or promtool on PATH. Without
// either the test is skipped: `make lint` always has one (internal/dev/tools.sh).
func findPromtool(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROMTOOL"); p != "" {
		return p
	}
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: `make test` and `make lint` install it (internal/dev/tools.sh promtool) and set PROMTOOL")
	}
	return p
}

// checkQueries writes qs as recording rules, one per query, with Grafana's variables
// replaced, and runs `promtool check rules` on them. It returns promtool's output,
// annotated with which panel each rule comes from, and its error.
func checkQueries(t *testing.T, promtool string, qs []query) (string, error) {
	t.Helper()
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rules []rule
	var legend strings.Builder
	for i, q := range qs {
		expr, err := substituteGrafanaVars(q.Expr)
		require.NoError(t, err, "panel %q, query %s", q.Panel, q.RefID)
		name := fmt.Sprintf("dashboard:query_%d", i)
		rules = append(rules, rule{Record: name, Expr: expr})
		fmt.Fprintf(&legend, "%s: panel %q, query %s: %s\n", name, q.Panel, q.RefID, expr)
	}
	// JSON is YAML: promtool reads the file as a rules file.
	raw, err := json.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	require.NoError(t, os.WriteFile(path, raw, 0o644))

	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	return string(out) + "\nrules checked:\n" + legend.String(), err
}

// grafanaVars gives Grafana's built-in variables a value a Prometheus server would see.
var grafanaVars = map[string]string{
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__interval_ms":   "60000",
	"__range":         "6h",
	"__range_s":       "21600",
	"__range_ms":      "21600000",
}

var grafanaVar = regexp.MustCompile(`\$(?:\{(\w+)(?::\w+)?\}|(\w+))`)

// substituteGrafanaVars replaces Grafana's built-in variables in expr ($__rate_interval,
// ${__range}...). It fails on any other variable: the dashboard defines none that a
// query may use.
func substituteGrafanaVars(expr string) (string, error) {
	var unknown []string
	out := grafanaVar.ReplaceAllStringFunc(expr, func(v string) string {
		m := grafanaVar.FindStringSubmatch(v)
		name := m[1] + m[2]
		if val, ok := grafanaVars[name]; ok {
			return val
		}
		unknown = append(unknown, v)
		return v
	})
	if len(unknown) > 0 || strings.Contains(out, "[[") {
		return "", fmt.Errorf("query %q uses variables this check does not know: %v", expr, unknown)
	}
	return out, nil
}
