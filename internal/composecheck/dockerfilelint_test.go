// The Dockerfile's lint: BuildKit's own Dockerfile linter, the checks `docker build --check`
// runs (dockerfile2llb.DockerfileLint), on ../../Dockerfile, offline and without a container
// engine. Any warning fails, as would `docker build --check`; a rule the Dockerfile means to
// break is skipped in the Dockerfile itself with a `# check=skip=RULE` directive, which
// docker build honours too.

package composecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
)

// offlineImages answers BuildKit's questions about base images without a registry: every
// image is a Linux image for this machine's architecture, with one layer and the PATH
// (and, for golang, the Go variables) its official image sets. The rules that look at a
// base image (its platform, the variables it defines) then see what the real one has,
// and no test reaches the network.
type offlineImages struct{}

// ResolveImageConfig implements sourceresolver.ImageMetaResolver.
func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if strings.Contains(ref, "/golang:") {
		env = []string{"PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"GOLANG_VERSION=1.26", "GOTOOLCHAIN=local", "GOPATH=/go"}
	}
	config, err := json.Marshal(map[string]any{
		"architecture": goruntime.GOARCH,
		"os":           "linux",
		"config":       map[string]any{"Env": env},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{
			"sha256:0000000000000000000000000000000000000000000000000000000000000001"}},
	})
	return ref, "", config, err
}

// lintDockerfile runs BuildKit's linter on dt with the build arguments compose passes,
// and returns each warning and the build error, if any, as "RULE: detail (line N)".
func lintDockerfile(t *testing.T, dt []byte) []string {
	t.Helper()
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		Config: dockerui.Config{BuildArgs: map[string]string{"REGISTRY": requiredEnv["REGISTRY"]}},
		// The source is only named in the results: no build definition goes with it.
		SourceMap:    &llb.SourceMap{Filename: "Dockerfile", Language: "Dockerfile", Data: dt, Definition: &llb.Definition{}},
		MetaResolver: offlineImages{},
	})
	require.NoError(t, err)
	return findings(res)
}

// findings formats a lint result's warnings and build error.
func findings(res *lint.LintResults) []string {
	var out []string
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		out = append(out, fmt.Sprintf("%s: %s (line %d)", w.RuleName, w.Detail, line))
	}
	if res.Error != nil {
		out = append(out, "build error: "+res.Error.Message)
	}
	return out
}

func TestDockerfileLint(t *testing.T) {
	dt, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	require.NoError(t, err)
	require.Empty(t, lintDockerfile(t, dt), "BuildKit's Dockerfile checks (docker build --check) on the Dockerfile")
}

// The linter finds what it is there for: a Dockerfile that breaks its rules is flagged,
// each rule by name, so a clean result above is a pass and not a linter that saw nothing.
func TestDockerfileLintFlagsBadDockerfiles(t *testing.T) {
	for rule, dockerfile := range map[string]string{
		"FromAsCasing":                   "FROM ${REGISTRY}/library/alpine:3 as build\nRUN true\n",
		"JSONArgsRecommended":            "FROM ${REGISTRY}/library/alpine:3\nENTRYPOINT /photogen serve\n",
		"UndefinedVar":                   "FROM ${REGISTRY}/library/alpine:3\nRUN echo $UNDEFINED_ANYWHERE\nENV X=$NOT_DEFINED_EITHER\n",
		"WorkdirRelativePath":            "FROM ${REGISTRY}/library/alpine:3\nWORKDIR src\n",
		"DuplicateStageName":             "FROM ${REGISTRY}/library/alpine:3 AS a\nFROM ${REGISTRY}/library/alpine:3 AS a\n",
		"SecretsUsedInArgOrEnv":          "FROM ${REGISTRY}/library/alpine:3\nENV STRIPE_SECRET_KEY=sk_live_x\n",
		"MultipleInstructionsDisallowed": "FROM ${REGISTRY}/library/alpine:3\nCMD [\"a\"]\nCMD [\"b\"]\n",
	} {
		t.Run(rule, func(t *testing.T) {
			got := lintDockerfile(t, []byte("ARG REGISTRY\n"+dockerfile))
			require.True(t, slices.ContainsFunc(got, func(f string) bool { return strings.HasPrefix(f, rule+":") }),
				"want a %s warning, got %q", rule, got)
		})
	}
}
