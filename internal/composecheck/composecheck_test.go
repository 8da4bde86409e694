// The compose file check: loads ../../compose.yaml with compose-go, the library Compose
// v2 uses (interpolation, anchors and merge keys, profiles, the Compose schema), with
// the environment an operator sets, and asserts what a deployment relies on.

package composecheck

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

const (
	root = "../.."
	// image is what migrate builds and api and worker run.
	image = "photogen:local"
	// photoDir is STORAGE_DIR in compose and the directory the Dockerfile makes.
	photoDir = "/data/photos"
)

// requiredEnv is every variable compose.yaml requires (${VAR:?...}), with test values.
var requiredEnv = map[string]string{
	"REGISTRY":              "mirror.example/hub",
	"PHOTO_NAME_SECRET":     "0123456789abcdef0123456789abcdef",
	"STRIPE_WEBHOOK_SECRET": "whsec_test",
	"REPLICATE_API_TOKEN":   "r8_test",
}

func options(t *testing.T, env map[string]string, extra ...cli.ProjectOptionsFn) *cli.ProjectOptions {
	t.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	// No OS environment and no .env file: the test sees only what it sets.
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")},
		append([]cli.ProjectOptionsFn{cli.WithWorkingDirectory(root), cli.WithEnv(list)}, extra...)...)
	require.NoError(t, err)
	return opts
}

func load(t *testing.T, env map[string]string, profiles ...string) (*types.Project, error) {
	t.Helper()
	return options(t, env, cli.WithProfiles(profiles), cli.WithResolvedPaths(true)).LoadProject(context.Background())
}

func mustLoad(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	p, err := load(t, requiredEnv, profiles...)
	require.NoError(t, err)
	return p
}

func abs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(root, rel))
	require.NoError(t, err)
	return p
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	p := mustLoad(t)
	require.Equal(t, "photogen", p.Name)
	require.ElementsMatch(t, []string{"postgres", "migrate", "api", "worker"}, p.ServiceNames(),
		"the default profile runs the application only")
	for _, v := range []string{"pgdata", "photos"} {
		require.Contains(t, p.Volumes, v)
	}

	pg := p.Services["postgres"]
	require.NotNil(t, pg.HealthCheck, "postgres has a healthcheck")
	require.Contains(t, strings.Join(pg.HealthCheck.Test, " "), "pg_isready")

	// One build, one image: migrate builds it, api and worker run it as it is.
	var builders []string
	for name, s := range p.Services {
		if s.Build != nil {
			builders = append(builders, name)
		}
	}
	require.Equal(t, []string{"migrate"}, builders, "only migrate builds the image")
	b := p.Services["migrate"].Build
	require.Equal(t, abs(t, "."), b.Context)
	require.Equal(t, "Dockerfile", b.Dockerfile)
	require.NotNil(t, b.Args["REGISTRY"])
	require.Equal(t, requiredEnv["REGISTRY"], *b.Args["REGISTRY"], "the build gets REGISTRY")
	require.Contains(t, b.Args, "REVISION", "the build is stamped with REVISION when it is set")

	for _, name := range []string{"migrate", "api", "worker"} {
		s := p.Services[name]
		require.Equal(t, image, s.Image, "%s runs the image migrate builds", name)
		require.Equal(t, types.ShellCommand{name}, s.Command, "%s runs photogen %s", name, name)
		require.Equal(t, types.ServiceConditionHealthy, s.DependsOn["postgres"].Condition, "%s waits for a healthy postgres", name)
		require.Contains(t, env(t, s, "DATABASE_URL"), "@postgres:5432/", "%s reaches the postgres service", name)
		require.Equal(t, requiredEnv["PHOTO_NAME_SECRET"], env(t, s, "PHOTO_NAME_SECRET"), "%s", name)
		require.Equal(t, photoDir, env(t, s, "STORAGE_DIR"), "%s", name)
	}

	require.Equal(t, "no", p.Services["migrate"].Restart, "migrate is one-shot")
	for name, grace := range map[string]time.Duration{"api": 30 * time.Second, "worker": 60 * time.Second} {
		s := p.Services[name]
		require.Equal(t, types.ServiceConditionCompletedSuccessfully, s.DependsOn["migrate"].Condition, "%s waits for migrations", name)
		require.NotNil(t, s.StopGracePeriod, "%s has a stop_grace_period", name)
		// The api drains for 20s, the worker lets jobs finish for 30s.
		require.Equal(t, grace, time.Duration(*s.StopGracePeriod), "%s", name)
		require.True(t, slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
			return v.Type == types.VolumeTypeVolume && v.Source == "photos" && v.Target == photoDir
		}), "%s shares the photos volume at %s", name, photoDir)
	}
	worker := p.Services["worker"]
	require.Equal(t, 2, worker.GetScale(), "two worker replicas")
	require.Equal(t, requiredEnv["STRIPE_WEBHOOK_SECRET"], env(t, p.Services["api"], "STRIPE_WEBHOOK_SECRET"))
	require.Equal(t, requiredEnv["REPLICATE_API_TOKEN"], env(t, p.Services["worker"], "REPLICATE_API_TOKEN"))
	require.NotContains(t, p.Services["api"].Environment, "REPLICATE_API_TOKEN", "only workers call Replicate")
	require.Equal(t, ":9090", env(t, p.Services["worker"], "WORKER_ADDR"), "where Prometheus scrapes the workers")
	require.Equal(t, ":9091", env(t, p.Services["api"], "METRICS_ADDR"), "where Prometheus scrapes the api")
	for _, port := range p.Services["api"].Ports {
		require.NotEqual(t, "9091", port.Target, "the api's metrics port is not published")
	}
	raw, err := os.ReadFile(filepath.Join(root, "deploy/prometheus/prometheus.yml"))
	require.NoError(t, err)
	var prom struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &prom))
	var apiTargets []string
	for _, sc := range prom.ScrapeConfigs {
		if sc.JobName == "photogen-api" {
			for _, st := range sc.StaticConfigs {
				apiTargets = append(apiTargets, st.Targets...)
			}
		}
	}
	require.Equal(t, []string{"api:9091"}, apiTargets, "Prometheus scrapes the api's METRICS_ADDR")
}

func TestComposeMonitoringProfile(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, "monitoring")
	require.ElementsMatch(t, []string{"postgres", "migrate", "api", "worker", "prometheus", "grafana"}, p.ServiceNames())
	for _, name := range []string{"prometheus", "grafana"} {
		s := p.Services[name]
		require.Equal(t, []string{"monitoring"}, s.Profiles, "%s runs only in the monitoring profile", name)
		for _, port := range s.Ports {
			require.Equal(t, "127.0.0.1", port.HostIP, "%s is published on the loopback only", name)
		}
	}

	prom := p.Services["prometheus"]
	dir := bindTarget(t, prom, abs(t, "deploy/prometheus"))
	require.Contains(t, []string(prom.Command), "--config.file="+dir+"/prometheus.yml")
	for _, f := range []string{"prometheus.yml", "rules.yml"} {
		require.FileExists(t, filepath.Join(root, "deploy/prometheus", f))
	}

	graf := p.Services["grafana"]
	require.Equal(t, "/etc/grafana/provisioning", bindTarget(t, graf, abs(t, "deploy/grafana/provisioning")))
	dashboard := bindTarget(t, graf, abs(t, "deploy/grafana/photogen.json"))
	raw, err := os.ReadFile(filepath.Join(root, "deploy/grafana/provisioning/dashboards/photogen.yml"))
	require.NoError(t, err)
	var provider struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &provider))
	require.Len(t, provider.Providers, 1)
	require.Equal(t, provider.Providers[0].Options.Path, filepath.Dir(dashboard),
		"the dashboard is mounted where Grafana's provider looks")
}

func TestComposeImagesAreFullyQualified(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, "monitoring")
	for name, s := range p.Services {
		if s.Image == image {
			continue
		}
		require.True(t, strings.HasPrefix(s.Image, requiredEnv["REGISTRY"]+"/"),
			"%s: image %q is not on ${REGISTRY}", name, s.Image)
	}
}

func TestComposeRequiresItsVariables(t *testing.T) {
	t.Parallel()
	for name := range requiredEnv {
		env := map[string]string{}
		for k, v := range requiredEnv {
			if k != name {
				env[k] = v
			}
		}
		_, err := load(t, env)
		require.Error(t, err, "compose.yaml loads without %s", name)
		require.Contains(t, err.Error(), name)
	}
}

// Every variable compose.yaml reads, and every variable it sets for photogen, is
// documented in docs/operations.md.
func TestComposeVariablesAreDocumented(t *testing.T) {
	t.Parallel()
	ops, err := os.ReadFile(filepath.Join(root, "docs/operations.md"))
	require.NoError(t, err)
	documented := func(name string) bool { return strings.Contains(string(ops), "`"+name+"`") }

	model, err := options(t, nil, cli.WithInterpolation(false)).LoadModel(context.Background())
	require.NoError(t, err)
	vars := template.ExtractVariables(model, template.DefaultPattern)
	require.NotEmpty(t, vars)
	for name := range vars {
		require.True(t, documented(name), "compose.yaml reads ${%s}, which docs/operations.md does not document", name)
	}
	for name := range requiredEnv {
		require.True(t, vars[name].Required, "compose.yaml requires %s", name)
	}

	p := mustLoad(t)
	for _, svc := range []string{"migrate", "api", "worker"} {
		for k := range p.Services[svc].Environment {
			require.True(t, documented(k), "%s sets %s, which docs/operations.md does not document", svc, k)
		}
	}
}

// The Dockerfile compose builds: fully qualified base images through REGISTRY, and the
// photo directory owned by the user photogen runs as.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	require.NoError(t, err)
	var froms []string
	argRegistry := false
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			if len(froms) == 0 && line == "ARG REGISTRY" {
				argRegistry = true
			}
		case "FROM":
			require.GreaterOrEqual(t, len(fields), 2, "%q", line)
			froms = append(froms, fields[1])
		}
	}
	require.True(t, argRegistry, "ARG REGISTRY, without a default, before the first FROM")
	require.NotEmpty(t, froms)
	for _, f := range froms {
		require.True(t, f == "scratch" || strings.HasPrefix(f, "${REGISTRY:?}/"),
			"FROM %s: a base image is scratch or fully qualified as ${REGISTRY:?}/...", f)
	}
	require.Regexp(t, regexp.MustCompile(`(?m)^COPY --from=build --chown=65532:65532 \S+ `+photoDir+`$`), string(raw),
		"the image has %s owned by 65532", photoDir)
	require.Regexp(t, regexp.MustCompile(`(?m)^USER 65532:65532$`), string(raw))
}

// env returns the value of the environment variable name that compose sets for s.
func env(t *testing.T, s types.ServiceConfig, name string) string {
	t.Helper()
	v, ok := s.Environment[name]
	require.True(t, ok && v != nil, "%s sets %s", s.Name, name)
	return *v
}

// bindTarget returns where s mounts the host path source, read-only.
func bindTarget(t *testing.T, s types.ServiceConfig, source string) string {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && v.Source == source {
			require.True(t, v.ReadOnly, "%s mounts %s read-only", s.Name, source)
			return v.Target
		}
	}
	require.Failf(t, "missing mount", "%s does not mount %s", s.Name, source)
	return ""
}
