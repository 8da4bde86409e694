package archtest

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fixedIn is, for each dependency with a known advisory that reached photogen's module
// graph, the first version without it. govulncheck (make lint) finds new ones when it
// has a database; this keeps a fixed one from coming back on a downgrade.
var fixedIn = map[string]struct{ version, advisory string }{
	"github.com/quic-go/quic-go": {"v0.59.1", "GO-2026-5676 (reached through gin's http3 support)"},
}

func TestNoDependencyBelowItsAdvisoryFix(t *testing.T) {
	t.Parallel()
	for path, fix := range fixedIn {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", path)
		cmd.Dir = "../.."
		out, err := cmd.Output()
		require.NoError(t, err, "go list -m %s", path)
		got := strings.TrimSpace(string(out))
		require.False(t, versionLess(t, got, fix.version), "%s %s is affected by %s: need %s or later", path, got, fix.advisory, fix.version)
	}
}

// versionLess compares two release versions vMAJOR.MINOR.PATCH.
func versionLess(t *testing.T, a, b string) bool {
	t.Helper()
	pa, pb := parts(t, a), parts(t, b)
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func parts(t *testing.T, v string) [3]int {
	t.Helper()
	fields := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	require.Len(t, fields, 3, "version %q", v)
	var out [3]int
	for i, f := range fields {
		f, _, _ = strings.Cut(f, "-")
		n, err := strconv.Atoi(f)
		require.NoError(t, err, "version %q", v)
		out[i] = n
	}
	return out
}
