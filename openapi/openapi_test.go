package openapi

// Tests of the document's JSON form: it says the same as its YAML, and is served as such.
// The document's own checks (OpenAPI 3.1, every public operation) are in openapi/contract.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

func TestJSONSaysWhatYAMLSays(t *testing.T) {
	t.Parallel()
	var fromYAML, fromJSON any
	require.NoError(t, yaml.Unmarshal(YAML(), &fromYAML))
	require.NoError(t, json.Unmarshal(JSON(), &fromJSON))
	// Round-trip the YAML through encoding/json so both have JSON's types (float64 numbers).
	b, err := json.Marshal(fromYAML)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &fromYAML))
	require.Equal(t, fromYAML, fromJSON)
	require.True(t, strings.HasPrefix(string(JSON()), "{\n  \"openapi\": \"3.1"), "keys keep the YAML's order")
}

func TestHandlerServesJSON(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/openapi.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var doc map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	require.Equal(t, "photogen", doc["info"].(map[string]any)["title"])

	resp, err = http.Post(srv.URL+"/openapi.json", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
