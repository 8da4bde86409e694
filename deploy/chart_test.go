// This file checks the Helm chart offline, in `make lint` and `make test`: helm's linter
// passes with the default values and with each file in ci/, and every render (the
// defaults and each ci/ file, decoded strictly by chart_render_test.go) carries what a
// deployment relies on: probes, resources, security contexts, secrets by secretKeyRef
// only, the migration hook, PodDisruptionBudgets, the autoscaler that the values choose,
// the photo store, and the Prometheus Operator objects behind their flags.

package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// want is what one render must contain.
type want struct {
	autoscaler string // "keda", "hpa" or "" (fixed replicas)
	store      string // "s3" or "local"
	monitoring bool   // ServiceMonitor and PrometheusRule
	ingress    bool
}

// renders is every values file the chart is rendered with: "" for the defaults, and
// each file in ci/ (a file there without an entry here fails the test).
var renders = map[string]want{
	"":                                  {autoscaler: "keda", store: "s3"},
	"helm/photogen/ci/full-values.yaml": {autoscaler: "keda", store: "s3", monitoring: true, ingress: true},
	"helm/photogen/ci/hpa-values.yaml":  {autoscaler: "hpa", store: "s3"},
	"helm/photogen/ci/local-store-values.yaml": {store: "local"},
}

// secretVars are the variables whose values are secrets: each must come from a Secret.
var secretVars = []string{
	"DATABASE_URL", "STRIPE_WEBHOOK_SECRET", "REPLICATE_API_TOKEN", "REPLICATE_WEBHOOK_SECRET",
	"PHOTO_NAME_SECRET", "OPERATOR_TOKEN", "AUTH_JWT_SECRET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
}

// secretsOf is, for each container, the secrets it must read (optional ones included:
// their secretKeyRef is marked optional, so that a Secret without the key turns the
// feature off).
var secretsOf = map[string][]string{
	"api":     {"DATABASE_URL", "STRIPE_WEBHOOK_SECRET", "PHOTO_NAME_SECRET", "REPLICATE_WEBHOOK_SECRET", "OPERATOR_TOKEN", "AUTH_JWT_SECRET"},
	"worker":  {"DATABASE_URL", "REPLICATE_API_TOKEN", "PHOTO_NAME_SECRET"},
	"migrate": {"DATABASE_URL"},
}

// optionalSecrets may be missing from the Secret.
var optionalSecrets = []string{"REPLICATE_WEBHOOK_SECRET", "OPERATOR_TOKEN", "AUTH_JWT_SECRET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}

func TestChartLints(t *testing.T) {
	t.Parallel()
	for _, file := range append([]string{""}, ciValuesFiles(t)...) {
		res := lint.RunAll(chartDir, readValues(t, file), namespace)
		for _, m := range res.Messages {
			require.Less(t, m.Severity, support.WarningSev, "helm lint (values %q): %s", file, m)
		}
	}
}

func TestChartRendersEveryValuesFile(t *testing.T) {
	t.Parallel()
	for _, file := range ciValuesFiles(t) {
		_, ok := renders[file]
		require.True(t, ok, "%s: say in renders what its render must contain", file)
	}
	for file, w := range renders {
		name := "defaults"
		if file != "" {
			name = strings.TrimSuffix(filepath.Base(file), ".yaml")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := render(t, file)
			checkWorkloads(t, r)
			checkSecrets(t, r, w)
			checkMigrationHook(t, r)
			checkServicesAndPDBs(t, r)
			checkAutoscaler(t, r, w)
			checkPhotoStore(t, r, w)
			checkMonitoring(t, r, w)
			checkIngress(t, r, w)
		})
	}
}

// The PrometheusRule is built from the chart's copy of the rules; it must be the file
// promtool tests.
func TestChartRulesAreTheDeployedRules(t *testing.T) {
	t.Parallel()
	ours, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	copied, err := os.ReadFile(filepath.Join(chartDir, "files", "rules.yml"))
	require.NoError(t, err)
	require.Equal(t, string(ours), string(copied), "cp %s %s/files/rules.yml", rulesFile, chartDir)
}

func TestChartRefusesASecretAsALiteralValue(t *testing.T) {
	t.Parallel()
	for _, vals := range []map[string]any{
		{"env": map[string]any{"DATABASE_URL": "postgres://u:p@db/photogen"}},
		{"api": map[string]any{"env": map[string]any{"STRIPE_WEBHOOK_SECRET": "whsec_x"}}},
		{"worker": map[string]any{"env": map[string]any{"REPLICATE_API_TOKEN": "r8_x"}}},
	} {
		_, err := renderManifests(vals)
		require.ErrorContains(t, err, "is a secret", "values %v", vals)
	}
}

// values.schema.json: a value of the wrong kind, or a misspelt switch, fails the render
// rather than turning a feature off in silence.
func TestChartRefusesValuesItDoesNotKnow(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		vals map[string]any
		msg  string
	}{
		{map[string]any{"photos": map[string]any{"store": "gcs"}}, "/photos/store"},
		{map[string]any{"worker": map[string]any{"autoscaling": map[string]any{"keda": map[string]any{"enable": false}}}}, "'enable' not allowed"},
		{map[string]any{"worker": map[string]any{"shutdownMarginSeconds": 10}}, "/worker/shutdownMarginSeconds"},
		{map[string]any{"secrets": map[string]any{"databaseURL": map[string]any{"value": "postgres://u:p@db/x"}}}, "'value' not allowed"},
	} {
		_, err := renderManifests(c.vals)
		require.ErrorContains(t, err, c.msg, "values %v", c.vals)
	}
}

func TestChartRefusesTheLocalStoreWithoutAClaim(t *testing.T) {
	t.Parallel()
	_, err := renderManifests(map[string]any{"photos": map[string]any{"store": "local"}})
	require.ErrorContains(t, err, "ReadWriteMany")
}

// pods returns each workload's pod template by component (api, worker, migrate).
func pods(t *testing.T, r *rendered) map[string]corev1.PodTemplateSpec {
	t.Helper()
	api, worker, migrate := r.Deployments["photogen-api"], r.Deployments["photogen-worker"], r.Jobs["photogen-migrate"]
	require.NotNil(t, api, "the api Deployment")
	require.NotNil(t, worker, "the worker Deployment")
	require.NotNil(t, migrate, "the migrate Job")
	require.Len(t, r.Deployments, 2)
	require.Len(t, r.Jobs, 1)
	return map[string]corev1.PodTemplateSpec{"api": api.Spec.Template, "worker": worker.Spec.Template, "migrate": migrate.Spec.Template}
}

// container returns the pod's one container, named after its component.
func container(t *testing.T, p corev1.PodTemplateSpec, name string) corev1.Container {
	t.Helper()
	require.Len(t, p.Spec.Containers, 1, name)
	c := p.Spec.Containers[0]
	require.Equal(t, name, c.Name)
	require.Equal(t, []string{name}, c.Args, "the container runs `photogen %s`", name)
	return c
}

// env returns the container's variable named name, and whether it has one.
func env(c corev1.Container, name string) (corev1.EnvVar, bool) {
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return corev1.EnvVar{}, false
	}
	return c.Env[i], true
}

// checkWorkloads: every pod runs as non-root with a read-only root and /tmp on an
// emptyDir, every container has requests and limits, the api and the workers have
// probes on /readyz and /healthz, and their grace periods cover their shutdowns.
func checkWorkloads(t *testing.T, r *rendered) {
	for name, p := range pods(t, r) {
		c := container(t, p, name)
		checkSecurity(t, name, p.Spec, c)
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, lim := c.Resources.Requests[res], c.Resources.Limits[res]
			require.False(t, req.IsZero(), "%s: requests.%s", name, res)
			require.False(t, lim.IsZero(), "%s: limits.%s", name, res)
			require.LessOrEqual(t, req.Cmp(lim), 0, "%s: %s request under its limit", name, res)
		}
		if name != "migrate" {
			checkProbes(t, name, c)
		}
	}
	ps := pods(t, r)
	worker := container(t, ps["worker"], "worker")
	soft := 30 * time.Second // photogen's default SHUTDOWN_SOFT_TIMEOUT
	if e, ok := env(worker, "SHUTDOWN_SOFT_TIMEOUT"); ok {
		d, err := time.ParseDuration(e.Value)
		require.NoError(t, err, "SHUTDOWN_SOFT_TIMEOUT")
		soft = d
	}
	// After SIGTERM the worker gives running jobs soft, then at most 20 s more to stop
	// (cmd/photogen serve): the kubelet must not kill it before.
	grace := time.Duration(*ps["worker"].Spec.TerminationGracePeriodSeconds) * time.Second
	require.Greater(t, grace, soft+20*time.Second, "worker: terminationGracePeriodSeconds above SHUTDOWN_SOFT_TIMEOUT (%s) and the last 20 s bound", soft)
	// The api waits preStop, then drains its requests, each bounded by the server's 30 s
	// write timeout (cmd/photogen newHTTPServer).
	api := ps["api"].Spec
	apiGrace := *api.TerminationGracePeriodSeconds
	var preStop int64
	if h := api.Containers[0].Lifecycle; h != nil && h.PreStop != nil && h.PreStop.Sleep != nil {
		preStop = h.PreStop.Sleep.Seconds
	}
	require.Greater(t, apiGrace, preStop+30, "api: terminationGracePeriodSeconds above preStop and the drain")
}

func checkSecurity(t *testing.T, name string, pod corev1.PodSpec, c corev1.Container) {
	ps := pod.SecurityContext
	require.NotNil(t, ps, "%s: pod securityContext", name)
	require.True(t, ps.RunAsNonRoot != nil && *ps.RunAsNonRoot, "%s: pod runAsNonRoot", name)
	require.True(t, ps.RunAsUser != nil && *ps.RunAsUser != 0, "%s: pod runAsUser not root", name)
	require.NotNil(t, ps.SeccompProfile, "%s: pod seccompProfile", name)
	require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, ps.SeccompProfile.Type)
	cs := c.SecurityContext
	require.NotNil(t, cs, "%s: container securityContext", name)
	require.True(t, cs.RunAsNonRoot != nil && *cs.RunAsNonRoot, "%s: container runAsNonRoot", name)
	require.True(t, cs.ReadOnlyRootFilesystem != nil && *cs.ReadOnlyRootFilesystem, "%s: readOnlyRootFilesystem", name)
	require.True(t, cs.AllowPrivilegeEscalation != nil && !*cs.AllowPrivilegeEscalation, "%s: allowPrivilegeEscalation false", name)
	require.NotNil(t, cs.Capabilities, "%s: capabilities", name)
	require.Equal(t, []corev1.Capability{"ALL"}, cs.Capabilities.Drop, "%s: every capability dropped", name)
	require.False(t, pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken, "%s: no service account token (photogen never calls the Kubernetes API)", name)
	// The root is read-only: /tmp is an emptyDir.
	i := slices.IndexFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/tmp" })
	require.GreaterOrEqual(t, i, 0, "%s: /tmp is mounted", name)
	v := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == c.VolumeMounts[i].Name })
	require.GreaterOrEqual(t, v, 0, "%s: /tmp's volume", name)
	require.NotNil(t, pod.Volumes[v].EmptyDir, "%s: /tmp is an emptyDir", name)
}

// checkProbes: readiness on /readyz, liveness on /healthz, on the port that serves them.
func checkProbes(t *testing.T, name string, c corev1.Container) {
	port := map[string]int32{"api": 8080, "worker": 9090}[name]
	for probe, path := range map[*corev1.Probe]string{c.ReadinessProbe: "/readyz", c.LivenessProbe: "/healthz"} {
		require.NotNil(t, probe, "%s: %s probe", name, path)
		require.NotNil(t, probe.HTTPGet, "%s: %s probe is an HTTP GET", name, path)
		require.Equal(t, path, probe.HTTPGet.Path, name)
		require.Equal(t, port, containerPort(t, c, probe.HTTPGet.Port.String()), "%s: %s probe's port", name, path)
	}
	addr := map[string]string{"api": "HTTP_ADDR", "worker": "WORKER_ADDR"}[name]
	e, ok := env(c, addr)
	require.True(t, ok, "%s: %s", name, addr)
	require.Equal(t, ":"+map[string]string{"api": "8080", "worker": "9090"}[name], e.Value, "%s: %s listens on the probed port", name, addr)
}

// containerPort resolves a port's name (or number) to the container's port number.
func containerPort(t *testing.T, c corev1.Container, port string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == port || port == strconv.Itoa(int(p.ContainerPort)) {
			return p.ContainerPort
		}
	}
	require.Failf(t, "no such port", "%s has no port %s", c.Name, port)
	return 0
}

// checkSecrets: every secret is read from a Secret by secretKeyRef, never a literal; each
// container reads the ones it needs; the chart renders no Secret of its own.
func checkSecrets(t *testing.T, r *rendered, w want) {
	for name, p := range pods(t, r) {
		c := container(t, p, name)
		require.Empty(t, c.EnvFrom, "%s: variables are listed one by one", name)
		for _, e := range c.Env {
			if !slices.Contains(secretVars, e.Name) {
				continue
			}
			require.Empty(t, e.Value, "%s: %s is never a literal value", name, e.Name)
			require.True(t, e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil, "%s: %s comes from a Secret (secretKeyRef)", name, e.Name)
			ref := e.ValueFrom.SecretKeyRef
			require.NotEmpty(t, ref.Name, "%s: %s's Secret", name, e.Name)
			require.NotEmpty(t, ref.Key, "%s: %s's key", name, e.Name)
			optional := ref.Optional != nil && *ref.Optional
			require.Equal(t, slices.Contains(optionalSecrets, e.Name), optional, "%s: %s optional", name, e.Name)
		}
		need := secretsOf[name]
		if w.store == "s3" && name != "migrate" {
			need = append(slices.Clone(need), "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
		}
		for _, s := range need {
			_, ok := env(c, s)
			require.True(t, ok, "%s reads %s", name, s)
		}
	}
}

// checkMigrationHook: `photogen migrate` runs before install and upgrade, once.
func checkMigrationHook(t *testing.T, r *rendered) {
	job := r.Jobs["photogen-migrate"]
	hooks := strings.Split(job.Annotations["helm.sh/hook"], ",")
	require.ElementsMatch(t, []string{"pre-install", "pre-upgrade"}, hooks, "the migrate Job is a pre-install and pre-upgrade hook")
	require.Contains(t, job.Annotations["helm.sh/hook-delete-policy"], "before-hook-creation")
	require.Equal(t, corev1.RestartPolicyNever, job.Spec.Template.Spec.RestartPolicy)
	require.Empty(t, job.Spec.Template.Spec.ServiceAccountName, "a pre-install hook cannot use the release's own service account: it does not exist yet")
	require.NotNil(t, job.Spec.BackoffLimit)
}

// checkServicesAndPDBs: each Service and PodDisruptionBudget selects the pods it is for,
// on ports they have.
func checkServicesAndPDBs(t *testing.T, r *rendered) {
	ps := pods(t, r)
	for svc, want := range map[string]struct{ component, port string }{
		"photogen-api": {"api", "http"}, "photogen-api-metrics": {"api", "metrics"}, "photogen-worker": {"worker", "health"},
	} {
		s := r.Services[svc]
		require.NotNil(t, s, "Service %s", svc)
		require.True(t, selects(s.Spec.Selector, ps, want.component), "Service %s selects the %s pods, and only them", svc, want.component)
		require.Len(t, s.Spec.Ports, 1, svc)
		require.Equal(t, want.port, s.Spec.Ports[0].TargetPort.String(), svc)
		containerPort(t, container(t, ps[want.component], want.component), want.port)
	}
	for _, component := range []string{"api", "worker"} {
		pdb := r.PDBs["photogen-"+component]
		require.NotNil(t, pdb, "a PodDisruptionBudget for the %s", component)
		require.True(t, pdb.Spec.MaxUnavailable != nil || pdb.Spec.MinAvailable != nil, component)
		require.NotNil(t, pdb.Spec.Selector)
		require.True(t, selects(pdb.Spec.Selector.MatchLabels, ps, component), "the %s PDB selects its pods, and only them", component)
		d := r.Deployments["photogen-"+component]
		require.True(t, selects(d.Spec.Selector.MatchLabels, ps, component), "the %s Deployment's selector", component)
	}
	require.Len(t, r.PDBs, 2)
}

// selects says whether sel matches the component's pods and no other.
func selects(sel map[string]string, ps map[string]corev1.PodTemplateSpec, component string) bool {
	if len(sel) == 0 {
		return false
	}
	s := labels.SelectorFromSet(sel)
	for name, p := range ps {
		if s.Matches(labels.Set(p.Labels)) != (name == component) {
			return false
		}
	}
	return true
}

// checkAutoscaler: KEDA's ScaledObject on the generation jobs, or a plain HPA, or fixed
// replicas, as the values say; never two autoscalers on the workers.
func checkAutoscaler(t *testing.T, r *rendered, w want) {
	worker := r.Deployments["photogen-worker"]
	switch w.autoscaler {
	case "keda":
		require.Empty(t, r.HPAs)
		so := r.ScaledObjects["photogen-worker"]
		require.NotNil(t, so, "the workers' ScaledObject")
		require.Len(t, r.ScaledObjects, 1)
		require.Equal(t, "Deployment", so.Spec.ScaleTargetRef.Kind)
		require.Equal(t, worker.Name, so.Spec.ScaleTargetRef.Name)
		require.Nil(t, worker.Spec.Replicas, "the autoscaler owns the replica count")
		require.True(t, *so.Spec.MinReplicaCount >= 1 && *so.Spec.MaxReplicaCount > *so.Spec.MinReplicaCount)
		require.Len(t, so.Spec.Triggers, 1)
		tr := so.Spec.Triggers[0]
		require.Equal(t, "postgresql", tr.Type)
		// The query deploy/scaling's test runs against River's tables.
		query, err := os.ReadFile(filepath.Join(chartDir, "files", "autoscaling-query.sql"))
		require.NoError(t, err)
		require.Equal(t, strings.TrimSpace(string(query)), tr.Metadata["query"])
		require.NotEmpty(t, tr.Metadata["targetQueryValue"])
		// KEDA reads the connection from the worker's own DATABASE_URL, a secretKeyRef.
		from := tr.Metadata["connectionFromEnv"]
		require.Equal(t, "DATABASE_URL", from)
		e, ok := env(container(t, worker.Spec.Template, "worker"), from)
		require.True(t, ok && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil, "the worker's %s is a secretKeyRef", from)
		require.Equal(t, "worker", so.Spec.ScaleTargetRef.EnvSourceContainerName)
	case "hpa":
		require.Empty(t, r.ScaledObjects)
		hpa := r.HPAs["photogen-worker"]
		require.NotNil(t, hpa, "the workers' HPA")
		require.Len(t, r.HPAs, 1)
		require.Equal(t, worker.Name, hpa.Spec.ScaleTargetRef.Name)
		require.Nil(t, worker.Spec.Replicas, "the autoscaler owns the replica count")
		require.NotEmpty(t, hpa.Spec.Metrics)
	default:
		require.Empty(t, r.ScaledObjects)
		require.Empty(t, r.HPAs)
		require.NotNil(t, worker.Spec.Replicas)
	}
}

// checkPhotoStore: S3 by default; the local store mounts a claim at STORAGE_DIR.
func checkPhotoStore(t *testing.T, r *rendered, w want) {
	for name, p := range pods(t, r) {
		if name == "migrate" {
			continue
		}
		c := container(t, p, name)
		bucket, s3 := env(c, "S3_BUCKET")
		dir, local := env(c, "STORAGE_DIR")
		base, ok := env(c, "PHOTO_BASE_URL")
		require.True(t, ok && base.Value != "", "%s: PHOTO_BASE_URL", name)
		claim := slices.IndexFunc(p.Spec.Volumes, func(v corev1.Volume) bool { return v.PersistentVolumeClaim != nil })
		if w.store == "s3" {
			require.True(t, s3 && bucket.Value != "", "%s: S3_BUCKET", name)
			require.False(t, local, "%s: no STORAGE_DIR with S3", name)
			require.Less(t, claim, 0, "%s: no volume with S3", name)
			continue
		}
		require.False(t, s3, "%s: no S3_BUCKET with the local store", name)
		require.True(t, local, "%s: STORAGE_DIR", name)
		require.GreaterOrEqual(t, claim, 0, "%s: the photos' claim", name)
		vol := p.Spec.Volumes[claim].Name
		i := slices.IndexFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == vol })
		require.GreaterOrEqual(t, i, 0, "%s mounts the photos' claim", name)
		require.Equal(t, dir.Value, c.VolumeMounts[i].MountPath, "%s: the claim is mounted at STORAGE_DIR", name)
		require.False(t, c.VolumeMounts[i].ReadOnly, name)
	}
}

// checkMonitoring: behind their flags, a ServiceMonitor on both metrics Services (as
// jobs photogen-api and photogen-worker, the rules' names) and a PrometheusRule with the
// groups of deploy/prometheus/rules.yml.
func checkMonitoring(t *testing.T, r *rendered, w want) {
	if !w.monitoring {
		require.Empty(t, r.Monitors)
		require.Empty(t, r.Rules)
		return
	}
	require.Len(t, r.Monitors, 1)
	sm := r.Monitors["photogen"]
	require.NotNil(t, sm, "the ServiceMonitor")
	sel := labels.SelectorFromSet(sm.Spec.Selector.MatchLabels)
	jobs := map[string]bool{}
	for name, s := range r.Services {
		if sel.Matches(labels.Set(s.Labels)) {
			jobs[s.Labels[sm.Spec.JobLabel]] = true
			require.Equal(t, "metrics", s.Spec.Ports[0].Name, "%s: the port the ServiceMonitor scrapes", name)
		}
	}
	require.Equal(t, map[string]bool{"photogen-api": true, "photogen-worker": true}, jobs, "the scrape jobs the rules expect")
	require.Len(t, sm.Spec.Endpoints, 1)
	require.Equal(t, "metrics", sm.Spec.Endpoints[0].Port)
	require.Equal(t, "/metrics", sm.Spec.Endpoints[0].Path)

	require.Len(t, r.Rules, 1)
	pr := r.Rules["photogen"]
	require.NotNil(t, pr, "the PrometheusRule")
	require.Equal(t, readRuleFile(t, rulesFile), pr.Spec, "the PrometheusRule's groups are rules.yml's")
	require.NotEmpty(t, pr.Spec.Groups)
}

// checkIngress: optional; with it, ingress-nginx limits each client address for all the
// api replicas at once, and routes to the api's Service.
func checkIngress(t *testing.T, r *rendered, w want) {
	if !w.ingress {
		require.Empty(t, r.Ingresses)
		return
	}
	ing := r.Ingresses["photogen-api"]
	require.NotNil(t, ing)
	require.NotEmpty(t, ing.Annotations["nginx.ingress.kubernetes.io/limit-rps"], "an ingress-level rate limit")
	require.Len(t, ing.Spec.Rules, 1)
	b := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
	require.Equal(t, "photogen-api", b.Name)
	require.Equal(t, "http", b.Port.Name)
	require.NotEmpty(t, ing.Spec.TLS)
}
