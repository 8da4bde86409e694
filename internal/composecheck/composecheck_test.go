// The compose file check: parses ../../compose.yaml as Docker Compose would (anchors and
// merge keys included) and asserts what a deployment relies on.

package composecheck

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

// service is the part of a compose service this check reads.
type service struct {
	Image       string   `yaml:"image"`
	Build       any      `yaml:"build"`
	Command     []string `yaml:"command"`
	Restart     string   `yaml:"restart"`
	StopGrace   string   `yaml:"stop_grace_period"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Deploy struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
	Environment map[string]string `yaml:"environment"`
}

func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../../compose.yaml")
	require.NoError(t, err)
	var f struct {
		Services map[string]service `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &f), "compose.yaml must parse, anchors and merges included")

	pg, ok := f.Services["postgres"]
	require.True(t, ok, "a postgres service")
	require.NotNil(t, pg.Healthcheck, "postgres has a healthcheck")
	require.Contains(t, strings.Join(pg.Healthcheck.Test, " "), "pg_isready")

	// Every service running photogen's image runs one of its serving commands.
	const image = "photogen:latest"
	commands := map[string]bool{"migrate": true, "api": true, "worker": true}
	seen := map[string]bool{}
	for name, s := range f.Services {
		if s.Image != image {
			continue
		}
		require.Len(t, s.Command, 1, "%s runs one photogen command", name)
		require.True(t, commands[s.Command[0]], "%s runs %q: want migrate, api or worker", name, s.Command[0])
		require.NotNil(t, s.Build, "%s builds the Dockerfile", name)
		require.Equal(t, "service_healthy", s.DependsOn["postgres"].Condition, "%s waits for a healthy postgres", name)
		require.Contains(t, s.Environment["DATABASE_URL"], "@postgres:5432/", "%s reaches the postgres service", name)
		seen[s.Command[0]] = true
	}
	require.Len(t, seen, len(commands), "a service for each of migrate, api and worker")

	require.Equal(t, []string{"migrate"}, f.Services["migrate"].Command)
	require.Equal(t, "no", f.Services["migrate"].Restart, "migrate is one-shot")
	for _, name := range []string{"api", "worker"} {
		s := f.Services[name]
		require.Equal(t, []string{name}, s.Command)
		require.Equal(t, "service_completed_successfully", s.DependsOn["migrate"].Condition, "%s waits for migrations", name)
		require.NotEmpty(t, s.StopGrace, "%s has a stop_grace_period", name)
	}
	require.Equal(t, 2, f.Services["worker"].Deploy.Replicas)
	require.Equal(t, "60s", f.Services["worker"].StopGrace, "longer than the worker's 30s soft stop")
	require.Equal(t, "30s", f.Services["api"].StopGrace, "longer than the api's 20s drain")
	require.Contains(t, f.Services["api"].Environment["STRIPE_WEBHOOK_SECRET"], "${STRIPE_WEBHOOK_SECRET:?")
	require.Contains(t, f.Services["worker"].Environment["REPLICATE_API_TOKEN"], "${REPLICATE_API_TOKEN")

	// Every variable photogen reads from compose, and every ${VAR} the file interpolates,
	// is documented in docs/operations.md.
	ops, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	for name, s := range f.Services {
		if s.Image != image {
			continue
		}
		for k := range s.Environment {
			require.True(t, strings.Contains(string(ops), "`"+k+"`"), "%s sets %s, which docs/operations.md does not document", name, k)
		}
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllSubmatch(raw, -1) {
		require.True(t, strings.Contains(string(ops), "`"+string(m[1])+"`"), "compose.yaml reads ${%s}, which docs/operations.md does not document", m[1])
	}

	_, err = os.Stat("../../Dockerfile")
	require.NoError(t, err, "the image is built from the Dockerfile")
}
