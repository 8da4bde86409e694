// This file checks the alerting rules without Prometheus: every alert links a runbook
// heading that exists in docs/operations.md, rules_test.yml has a case where it fires
// and one where it stays quiet (promtool runs them, make lint), and the scrape jobs it
// selects are the ones prometheus.yml defines.

package deploy

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

const (
	rulesFile     = "prometheus/rules.yml"
	rulesTestFile = "prometheus/rules_test.yml"
	operationsDoc = "../docs/operations.md"
	// runbookPrefix starts every runbook_url: the doc, relative to the repository.
	runbookPrefix = "docs/operations.md#"
)

// alertRule is the part of a Prometheus alerting rule these checks read.
type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readAlerts(t *testing.T) []alertRule {
	t.Helper()
	raw, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &f))
	var alerts []alertRule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts = append(alerts, r)
			}
		}
	}
	require.NotEmpty(t, alerts, "%s has no alert", rulesFile)
	return alerts
}

func TestEveryAlertLinksItsRunbook(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(operationsDoc)
	require.NoError(t, err)
	anchors := headingAnchors(string(doc))

	for _, a := range readAlerts(t) {
		url := a.Annotations["runbook_url"]
		require.Equal(t, runbookPrefix+strings.ToLower(a.Alert), url,
			"%s: runbook_url must be the doc's anchor of a heading named after the alert", a.Alert)
		anchor := strings.TrimPrefix(url, runbookPrefix)
		require.True(t, anchors[anchor], "%s: runbook_url %s: docs/operations.md has no heading with anchor #%s", a.Alert, url, anchor)
		require.NotEmpty(t, a.Annotations["summary"], "%s has a summary", a.Alert)
		require.NotEmpty(t, a.Labels["severity"], "%s has a severity", a.Alert)
	}
}

func TestEveryAlertIsTestedFiringAndNot(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(rulesTestFile)
	require.NoError(t, err)
	var f struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTests []struct {
				Alertname string           `yaml:"alertname"`
				ExpAlerts []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &f))
	require.Equal(t, []string{"rules.yml"}, f.RuleFiles, "%s tests %s", rulesTestFile, rulesFile)

	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range f.Tests {
		for _, at := range tc.AlertRuleTests {
			if len(at.ExpAlerts) > 0 {
				fires[at.Alertname] = true
			} else {
				quiet[at.Alertname] = true
			}
		}
	}
	for _, a := range readAlerts(t) {
		require.True(t, fires[a.Alert], "%s has no case in %s where it fires", a.Alert, rulesTestFile)
		require.True(t, quiet[a.Alert], "%s has no case in %s where it stays quiet", a.Alert, rulesTestFile)
	}
}

// headingAnchors returns the anchors GitHub gives the Markdown headings of doc (code
// blocks skipped): the heading's text in lower case, without punctuation, spaces
// turned to hyphens, and -1, -2... appended to repeats.
func headingAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		text, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if fenced || !strings.HasPrefix(line, "#") || !ok {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(text)) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r > 127:
				b.WriteRune(r)
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			anchors[slug+"-"+strconv.Itoa(n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

func TestHeadingAnchors(t *testing.T) {
	t.Parallel()
	got := headingAnchors("# Operations\n## Configuration (environment)\n```sh\n# not a heading\n```\n" +
		"### PhotogenNoWorkerReady\n## Scaling and tuning\n## Scaling and tuning\n#hashtag\n")
	require.Equal(t, map[string]bool{
		"operations": true, "configuration-environment": true, "photogennoworkerready": true,
		"scaling-and-tuning": true, "scaling-and-tuning-1": true,
	}, got)
}

// Every scrape job an alert selects (job="...") is one that compose's Prometheus
// scrapes, so a renamed job cannot silently mute an alert.
func TestAlertsSelectScrapedJobs(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("prometheus/prometheus.yml")
	require.NoError(t, err)
	var cfg struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &cfg))
	require.Equal(t, []string{"rules.yml"}, cfg.RuleFiles, "prometheus.yml loads the rules beside it")
	jobs := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		jobs[sc.JobName] = true
	}
	require.True(t, jobs["photogen-api"] && jobs["photogen-worker"], "jobs %v", jobs)

	selector := regexp.MustCompile(`\bjob="([^"]*)"`)
	for _, a := range readAlerts(t) {
		for _, m := range selector.FindAllStringSubmatch(a.Expr, -1) {
			require.True(t, jobs[m[1]], "%s selects job %q, which prometheus.yml does not scrape", a.Alert, m[1])
		}
	}
}
