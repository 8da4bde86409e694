package contract

// Tests of the document itself: it is OpenAPI 3.1 and describes exactly the public operations.

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func newTestValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := NewValidator()
	require.NoError(t, err)
	return v
}

func TestDocumentIsOpenAPI31(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	require.NoError(t, v.ValidateDocument())
	require.Equal(t, "3.1", v.model.Version[:3], "openapi version %s", v.model.Version)
}

func TestAnInvalidDocumentIsRefused(t *testing.T) {
	t.Parallel()
	// info.title is required, and a response needs a description.
	doc := "openapi: 3.1.0\ninfo: {version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n        '200': {}\n"
	v, err := newValidator([]byte(doc))
	require.NoError(t, err)
	err = v.ValidateDocument()
	require.Error(t, err)
	t.Log(err)
}

// TestDocumentHasEveryPublicOperation lists the operations the document must have, no more.
func TestDocumentHasEveryPublicOperation(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	var got []string
	for path, item := range v.model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			got = append(got, strings.ToUpper(method)+" "+path)
			require.NotEmpty(t, op.OperationId, "%s %s has no operationId", method, path)
			require.NotEmpty(t, op.Summary, "%s %s has no summary", method, path)
			for code, resp := range op.Responses.Codes.FromOldest() {
				require.NotNil(t, resp.Headers.GetOrZero("X-Request-Id"), "%s %s %s does not declare X-Request-Id", method, path, code)
				if code >= "400" {
					require.NotNil(t, resp.Content.GetOrZero("application/json"), "%s %s %s has no JSON error body", method, path, code)
				}
			}
			if len(op.Security) == 0 {
				continue
			}
			_, has401 := op.Responses.Codes.Get("401")
			require.True(t, has401, "%s %s needs a token but documents no 401", method, path)
		}
	}
	slices.Sort(got)
	require.Equal(t, []string{
		"GET /api/blueprint/events",
		"GET /api/blueprint/status",
		"GET /api/usage",
		"GET /healthz",
		"GET /readyz",
		"POST /api/blueprint/generate-paid",
		"POST /api/blueprint/subscribers",
		"POST /api/usage/{counter}/consume",
		"POST /webhooks/replicate",
		"POST /webhooks/stripe",
	}, got)
}
