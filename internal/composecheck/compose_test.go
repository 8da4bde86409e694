package composecheck

import (
	"os"
	"regexp"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

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
		Volumes  map[string]any     `yaml:"volumes"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &f), "compose.yaml must parse, anchors and merges included")

	pg, ok := f.Services["postgres"]
	require.True(t, ok, "a postgres service")
	require.NotNil(t, pg.Healthcheck, "postgres has a healthcheck")
	require.Contains(t, pg.Healthcheck.Test[1], "pg_isready")

	for _, name := range []string{"migrate", "api", "worker"} {
		s, ok := f.Services[name]
		require.True(t, ok, "a %s service", name)
		require.Equal(t, []string{name}, s.Command, "%s runs `photogen %s`", name, name)
		require.Equal(t, "photogen:latest", s.Image)
		require.NotNil(t, s.Build, "%s builds the Dockerfile", name)
		require.Equal(t, "service_healthy", s.DependsOn["postgres"].Condition, "%s waits for a healthy postgres", name)
		require.Contains(t, s.Environment["DATABASE_URL"], "@postgres:5432/")
		if name != "migrate" {
			require.Equal(t, "service_completed_successfully", s.DependsOn["migrate"].Condition, "%s waits for migrations", name)
			require.NotEmpty(t, s.StopGrace, "%s has a stop_grace_period", name)
		}
	}
	require.Equal(t, "no", f.Services["migrate"].Restart, "migrate is one-shot")
	require.Equal(t, 2, f.Services["worker"].Deploy.Replicas)
	require.Equal(t, "60s", f.Services["worker"].StopGrace, "longer than the worker's 30s soft stop")
	require.NotEmpty(t, f.Services["api"].Environment["STRIPE_WEBHOOK_SECRET"])
	require.NotEmpty(t, f.Services["worker"].Environment["REPLICATE_API_TOKEN"])

	// Every ${VAR} the file reads is one photogen documents.
	documented := map[string]bool{"STRIPE_WEBHOOK_SECRET": true, "REPLICATE_API_TOKEN": true}
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)`).FindAllSubmatch(raw, -1) {
		require.True(t, documented[string(m[1])], "undocumented variable %s", m[1])
	}
	_, err = os.Stat("../../Dockerfile")
	require.NoError(t, err, "the image is built from the Dockerfile")
}
