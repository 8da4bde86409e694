package e2e

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// exitCode runs the built binary and returns its exit code and output.
func exitCode(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	out, err := runCommand(t, env, args...)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out
	}
	require.NoError(t, err, out)
	return 0, out
}

// TestCommandLineAsAUserMeetsIt runs the real binary as a new user would: help
// everywhere without a database or a secret, a version, exit 2 for usage mistakes, and
// every configuration error at once in one JSON line.
func TestCommandLineAsAUserMeetsIt(t *testing.T) {
	t.Parallel()
	nowhere := map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"}
	for _, args := range [][]string{{"--help"}, {"migrate", "--help"}, {"api", "--help"}, {"worker", "--help"},
		{"generation", "show", "--help"}, {"queue", "stats", "--help"}} {
		code, out := exitCode(t, nowhere, args...)
		require.Equal(t, 0, code, "photogen %v: %s", args, out)
		require.Contains(t, out, "Usage:")
	}
	code, out := exitCode(t, nowhere, "version")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `^photogen \S+ \(revision \S+`, out)

	for _, args := range [][]string{{"api", "--frobnicate"}, {"frobnicate"}, {"generation", "show"}} {
		code, out := exitCode(t, nowhere, args...)
		require.Equal(t, 2, code, "photogen %v: %s", args, out)
	}

	code, out = exitCode(t, map[string]string{"PHOTO_BATCH_SIZE": "five", "DATABASE_MAX_CONNS": "1", "LOG_LEVEL": "loud"}, "api")
	require.Equal(t, 1, code, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 1, "one line: %s", out)
	var line struct {
		Msg    string   `json:"msg"`
		Errors []string `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &line))
	require.Equal(t, "invalid configuration", line.Msg)
	require.GreaterOrEqual(t, len(line.Errors), 3, "every bad setting at once: %v", line.Errors)
}
