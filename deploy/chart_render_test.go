// This file renders the Helm chart (helm/photogen) offline, as `helm template` does,
// with helm's own loader, values and engine packages, and decodes every rendered object
// strictly: Kubernetes objects into k8s.io/api's types, the CRDs (KEDA's ScaledObject,
// the Prometheus Operator's ServiceMonitor and PrometheusRule) into the local structs
// below. A field that the type does not have fails, as does a kind the chart should not
// render. chart_test.go checks what the objects carry.

package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const (
	chartDir = "helm/photogen"
	// releaseName and namespace are the ones every render uses: objects are named
	// photogen-api, photogen-worker...
	releaseName = "photogen"
	namespace   = "photogen"
)

// rendered is every object of one render, decoded strictly: each field holds the
// objects of the apiVersion and kind its tag names, by name.
type rendered struct {
	Deployments   map[string]*appsv1.Deployment                     `kind:"apps/v1 Deployment"`
	Services      map[string]*corev1.Service                        `kind:"v1 Service"`
	Jobs          map[string]*batchv1.Job                           `kind:"batch/v1 Job"`
	PDBs          map[string]*policyv1.PodDisruptionBudget          `kind:"policy/v1 PodDisruptionBudget"`
	HPAs          map[string]*autoscalingv2.HorizontalPodAutoscaler `kind:"autoscaling/v2 HorizontalPodAutoscaler"`
	Ingresses     map[string]*networkingv1.Ingress                  `kind:"networking.k8s.io/v1 Ingress"`
	Accounts      map[string]*corev1.ServiceAccount                 `kind:"v1 ServiceAccount"`
	ScaledObjects map[string]*scaledObject                          `kind:"keda.sh/v1alpha1 ScaledObject"`
	Monitors      map[string]*serviceMonitor                        `kind:"monitoring.coreos.com/v1 ServiceMonitor"`
	Rules         map[string]*prometheusRule                        `kind:"monitoring.coreos.com/v1 PrometheusRule"`
}

// scaledObject is the part of KEDA's keda.sh/v1alpha1 ScaledObject the chart writes.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			APIVersion             string `json:"apiVersion"`
			Kind                   string `json:"kind"`
			Name                   string `json:"name"`
			EnvSourceContainerName string `json:"envSourceContainerName"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		PollingInterval *int32 `json:"pollingInterval"`
		CooldownPeriod  *int32 `json:"cooldownPeriod"`
		Triggers        []struct {
			Type     string            `json:"type"`
			Metadata map[string]string `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor the chart writes.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel  string               `json:"jobLabel"`
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// prometheusRule is monitoring.coreos.com/v1 PrometheusRule with the rule file's groups.
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ruleFile `json:"spec"`
}

// ruleFile is a Prometheus rule file, as deploy/prometheus/rules.yml and a
// PrometheusRule's spec hold it.
type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert,omitempty"`
			Record      string            `json:"record,omitempty"`
			Expr        string            `json:"expr"`
			For         string            `json:"for,omitempty"`
			Labels      map[string]string `json:"labels,omitempty"`
			Annotations map[string]string `json:"annotations,omitempty"`
		} `json:"rules"`
	} `json:"groups"`
}

// ciValuesFiles returns the chart's ci/*.yaml, the values files `helm lint` and chart
// testing tools render besides the defaults.
func ciValuesFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "the chart has values files in ci/")
	sort.Strings(files)
	return files
}

// readValues reads a values file; "" is the chart's defaults alone.
func readValues(t *testing.T, file string) map[string]any {
	t.Helper()
	if file == "" {
		return map[string]any{}
	}
	vals, err := common.ReadValuesFile(file)
	require.NoError(t, err, file)
	return vals
}

// renderManifests renders the chart with vals over its defaults, as `helm template
// --namespace photogen photogen deploy/helm/photogen` does, and returns each template's
// output by name (NOTES.txt included).
func renderManifests(vals map[string]any) (map[string]string, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	top, err := util.ToRenderValuesWithSchemaValidation(ch, vals,
		common.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true},
		common.DefaultCapabilities, false)
	if err != nil {
		return nil, err
	}
	return engine.Render(ch, top)
}

// render renders the chart with a values file ("" for the defaults) and decodes every
// object strictly.
func render(t *testing.T, file string) *rendered {
	t.Helper()
	out, err := renderManifests(readValues(t, file))
	require.NoError(t, err, "render with %q", file)
	r := &rendered{}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue // NOTES.txt
		}
		for _, doc := range releaseutil.SplitManifests(out[name]) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			require.NoError(t, r.add([]byte(doc)), "%s (values %q):\n%s", name, file, doc)
		}
	}
	return r
}

// add decodes one object strictly (an unknown or repeated field is an error) into the
// type of the field of r whose tag names its apiVersion and kind, and files it there by
// name, refusing a second object of that kind and name.
func (r *rendered) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	v := reflect.ValueOf(r).Elem()
	for i := range v.NumField() {
		if v.Type().Field(i).Tag.Get("kind") != tm.APIVersion+" "+tm.Kind {
			continue
		}
		field := v.Field(i)
		o := reflect.New(field.Type().Elem().Elem())
		if err := yaml.UnmarshalStrict(doc, o.Interface()); err != nil {
			return fmt.Errorf("strict decode: %w", err)
		}
		name := o.Interface().(metav1.Object).GetName()
		if name == "" {
			return fmt.Errorf("a %s without a name", tm.Kind)
		}
		if field.IsNil() {
			field.Set(reflect.MakeMap(field.Type()))
		}
		if field.MapIndex(reflect.ValueOf(name)).IsValid() {
			return fmt.Errorf("two %s objects named %s", tm.Kind, name)
		}
		field.SetMapIndex(reflect.ValueOf(name), o)
		return nil
	}
	return fmt.Errorf("the chart renders %s %s, which this test does not know: add its type", tm.APIVersion, tm.Kind)
}

// readRuleFile decodes a Prometheus rule file strictly.
func readRuleFile(t *testing.T, path string) ruleFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var f ruleFile
	require.NoError(t, yaml.UnmarshalStrict(raw, &f), path)
	return f
}
