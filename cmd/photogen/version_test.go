// Tests of `photogen version`: the revision comes from the stamp the Makefile links in,
// else from Go's VCS stamping, else it is unknown; and a binary built as `make build`
// builds it names the checkout's revision even with Go's VCS stamping off.

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDescribeVersion(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"},
	}}
	noVCS := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	for _, c := range []struct {
		name             string
		info             *debug.BuildInfo
		stamped, changed string
		want             string
	}{
		{"Go's stamping", vcs, "", "", "photogen v1.2.3 (revision abc123, modified)"},
		{"the Makefile's stamp wins", vcs, "def456", "false", "photogen v1.2.3 (revision def456)"},
		{"the stamp with VCS stamping off", noVCS, "def456", "false", "photogen (devel) (revision def456)"},
		{"a modified tree, stamped", noVCS, "def456", "true", "photogen (devel) (revision def456, modified)"},
		{"nothing stamped", noVCS, "", "", "photogen (devel) (revision unknown)"},
		{"no build info", nil, "", "", "photogen (devel) (revision unknown)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, describeVersion(c.info, c.stamped, c.changed))
		})
	}
}

// git runs git in the repository and returns its trimmed output.
func git(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", "../.."}, args...)...).Output()
	require.NoError(t, err, "git %v: the version test runs in a git checkout", args)
	return strings.TrimSpace(string(out))
}

// runVersion runs `bin version` and returns its one line.
func runVersion(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return strings.TrimSpace(string(out))
}

func TestVersionOfTheBuiltBinary(t *testing.T) {
	t.Parallel()
	head := git(t, "rev-parse", "HEAD")
	dir := t.TempDir()

	// `make build` with Go's VCS stamping off, as on a machine with GOFLAGS=-buildvcs=false:
	// the Makefile's stamp names the revision.
	stamped := filepath.Join(dir, "photogen-make")
	mk := exec.Command("make", "--no-print-directory", "-C", "../..", "build", "BIN="+stamped)
	mk.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	out, err := mk.CombinedOutput()
	require.NoError(t, err, "make build: %s", out)
	modified := ""
	if git(t, "status", "--porcelain") != "" {
		modified = ", modified"
	}
	require.Equal(t, "photogen (devel) (revision "+head+modified+")", runVersion(t, stamped))

	// A plain `go build`, nothing stamped: Go's VCS stamping is the fallback. Go finds the
	// repository only where .git is a directory (a clone, as in CI), not in a git worktree,
	// whose .git is a file: there it records nothing, and the revision is unknown.
	plain := filepath.Join(dir, "photogen-go")
	gb := exec.Command("go", "build", "-buildvcs=auto", "-o", plain, ".")
	gb.Env = append(os.Environ(), "GOFLAGS=")
	out, err = gb.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	fallback := `\(revision ` + regexp.QuoteMeta(head) + `(, modified)?\)`
	if st, err := os.Stat(filepath.Join(git(t, "rev-parse", "--show-toplevel"), ".git")); err == nil && !st.IsDir() {
		fallback = `\(revision unknown\)`
	}
	require.Regexp(t, `^photogen \S+ `+fallback+`$`, runVersion(t, plain))
}
