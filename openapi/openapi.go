// Package openapi holds the OpenAPI 3.1 description of photogen's public HTTP API
// (openapi.yaml, embedded), served at /openapi.json. Its validator, for tests, is in
// openapi/contract.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/goccy/go-yaml"
)

//go:embed openapi.yaml
var spec []byte

// YAML returns the document as written, in YAML. The slice is shared: do not modify it.
func YAML() []byte { return spec }

// JSON returns the document as indented JSON, for serving at /openapi.json. It is converted
// once; the slice is shared, do not modify it. The embedded YAML is checked by this package's
// tests, so the conversion cannot fail in a build that passed them; if it does, JSON panics.
func JSON() []byte { return specJSON() }

// specJSON converts the embedded, constant YAML once. Derived from a constant, it is not state.
var specJSON = sync.OnceValue(func() []byte {
	b, err := yamlToJSON(spec)
	if err != nil {
		panic(fmt.Sprintf("openapi: the embedded openapi.yaml does not convert to JSON: %v", err))
	}
	return b
})

func yamlToJSON(y []byte) ([]byte, error) {
	raw, err := yaml.YAMLToJSON(y)
	if err != nil {
		return nil, fmt.Errorf("convert openapi.yaml: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("convert openapi.yaml: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Handler serves the document as JSON (GET and HEAD), for mounting at /openapi.json. It may be
// fetched from other origins (Access-Control-Allow-Origin: *), as API tools do.
func Handler() http.Handler {
	body := JSON()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"error":{"code":"method_not_allowed","message":"method not allowed"}}`))
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}
