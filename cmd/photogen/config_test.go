// The configuration table: every variable it binds is documented in docs/operations.md,
// alternatives are read in order, and a package's field error reaches the user with
// the variable's name.

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEveryVariableIsDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	var c config
	for _, b := range c.bindings() {
		for _, name := range strings.Fields(b.env) {
			require.Contains(t, string(doc), "`"+name+"`", "docs/operations.md does not describe %s", name)
		}
	}
	env := c.envOf(getenv(nil))
	require.Len(t, env, len(c.bindings()), "every binding names a field of config")
	require.Equal(t, "STRIPE_WEBHOOK_SECRET", env["API.WebhookSecret"])
	require.Equal(t, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env["Tracing.Endpoint"])
	require.Equal(t, "DATABASE_MAX_CONNS", env["MaxConns"])
}

func TestVariablesNamedInErrors(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(getenv(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://c/v1/traces",
	}), usesDatabase)
	require.NoError(t, err)
	require.Equal(t, "https://c/v1/traces", c.Tracing.Endpoint, "the traces endpoint comes first")

	_, err = loadConfig(getenv(map[string]string{
		"PHOTOS_PER_SUBSCRIBER": "0", "REPLICATE_MODEL": "nope", "REPLICATE_API_TOKEN": "r8_x", "PHOTO_NAME_SECRET": "short",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317", "S3_BUCKET": "b", "S3_PATH_STYLE": "maybe",
		"MAX_PHOTO_BYTES": "99999999999999999999",
	}), usesDatabase|usesAPI|usesWorker)
	require.Error(t, err)
	for _, want := range []string{
		"STRIPE_WEBHOOK_SECRET is required",
		"REPLICATE_MODEL \"nope\": want owner/name",
		"PHOTO_NAME_SECRET must be at least",
		"OTEL_EXPORTER_OTLP_ENDPOINT \"collector:4317\"",
		"PHOTO_BASE_URL is required with S3_BUCKET",
		`S3_PATH_STYLE="maybe": want true or false`,
		`MAX_PHOTO_BYTES="99999999999999999999": want a whole number`,
	} {
		require.ErrorContains(t, err, want)
	}
	require.NotContains(t, err.Error(), "WebhookSecret")
}
