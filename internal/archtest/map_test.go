package archtest

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// packageMap reads the table between the package-map markers of docs/architecture.md:
// package -> the photogen packages it may import.
func packageMap(t *testing.T) map[string]map[string]bool {
	t.Helper()
	doc, err := os.ReadFile("../../docs/architecture.md")
	require.NoError(t, err)
	text := string(doc)
	start := strings.Index(text, "<!-- package-map:start -->")
	end := strings.Index(text, "<!-- package-map:end -->")
	require.True(t, start >= 0 && end > start, "docs/architecture.md has no package-map markers")
	row := regexp.MustCompile("^\\| `([^`]+)` \\|.*\\| ([^|]*) \\|$")
	out := map[string]map[string]bool{}
	for _, line := range strings.Split(text[start:end], "\n") {
		m := row.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		allowed := map[string]bool{}
		for _, dep := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(m[2], -1) {
			allowed[dep[1]] = true
		}
		out[m[1]] = allowed
	}
	require.NotEmpty(t, out)
	return out
}

// goList runs go list on the module and returns each package's photogen imports.
func goList(t *testing.T, args ...string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	require.NoError(t, err)
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		name := strings.TrimPrefix(fields[0], "photogen/")
		pkgs[name] = nil
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "photogen/") {
				pkgs[name] = append(pkgs[name], strings.TrimPrefix(imp, "photogen/"))
			}
		}
	}
	return pkgs
}

func TestPackageMapMatchesTheCode(t *testing.T) {
	t.Parallel()
	allowed := packageMap(t)
	pkgs := goList(t, "./...")
	for pkg, imports := range pkgs {
		row, ok := allowed[pkg]
		require.True(t, ok, "package %s is not on the map in docs/architecture.md", pkg)
		for _, imp := range imports {
			require.True(t, row[imp], "%s imports %s, which its row in docs/architecture.md does not allow", pkg, imp)
		}
	}
	for pkg := range allowed {
		_, ok := pkgs[pkg]
		require.True(t, ok, "docs/architecture.md maps %s, which does not exist", pkg)
	}
}

// The api is the HTTP surface: neither the provider's client nor the job workers are
// among its dependencies.
func TestAPIDependsOnNoWorkerAndNoProvider(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-deps", "./api")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		require.NotContains(t, dep, "replicate-go")
		require.NotEqual(t, "photogen/worker", dep)
		require.NotEqual(t, "photogen/provider", dep)
	}
}
