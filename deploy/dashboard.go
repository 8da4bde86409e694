// This file reads the Grafana dashboard, grafana/photogen.json (embedded), for tests
// here and elsewhere: its panels, their queries, and the metrics those read.

package deploy

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
)

//go:embed grafana/photogen.json
var dashboardJSON []byte

// DashboardMetricNames returns, sorted and without repeats, the name of every photogen
// series that a query of the dashboard deploy/grafana/photogen.json reads, as a
// /metrics page shows it: a histogram appears as the photogen_..._bucket or _count it is
// queried by. Series that Prometheus makes itself (up) are left out, so an end-to-end
// test can check that each name appears on a real scrape of the api or a worker. It
// fails only if the embedded dashboard does not parse, which this package's tests rule
// out.
func DashboardMetricNames() ([]string, error) {
	d, err := parseDashboard(dashboardJSON)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, q := range d.queries() {
		names = append(names, metricNames(q.Expr)...)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// dashboard is the part of a Grafana dashboard's JSON model that this package reads.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// panel is a dashboard panel; a row holds its panels in Panels when it is collapsed.
type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// query is one PromQL expression of the dashboard and where it is.
type query struct {
	Panel string // the panel's title
	RefID string
	Expr  string
}

func parseDashboard(raw []byte) (dashboard, error) {
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return dashboard{}, fmt.Errorf("parse grafana/photogen.json: %w", err)
	}
	return d, nil
}

// allPanels returns every panel, rows and the panels of collapsed rows included.
func (d dashboard) allPanels() []panel {
	var all []panel
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	return all
}

// queries returns the expression of every panel target, in dashboard order.
func (d dashboard) queries() []query {
	var qs []query
	for _, p := range d.allPanels() {
		for _, t := range p.Targets {
			qs = append(qs, query{Panel: p.Title, RefID: t.RefID, Expr: t.Expr})
		}
	}
	return qs
}

var (
	// promqlString matches a PromQL string literal, whose text is never a metric name.
	promqlString = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	photogenName = regexp.MustCompile(`\bphotogen_[a-zA-Z0-9_:]*`)
)

// metricNames returns the photogen_ metric names expr reads, in order, with repeats.
// photogen's label names never start with photogen_, so any such word outside a string
// is a metric name.
func metricNames(expr string) []string {
	return photogenName.FindAllString(promqlString.ReplaceAllString(expr, `""`), -1)
}
