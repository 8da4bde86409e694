package contract

// This file holds the Validator: the embedded document, built once with libopenapi, checking
// requests, responses and event-stream events against it.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"photogen/openapi"
)

// Validator checks HTTP requests, responses and event-stream events against the embedded
// document. It is safe for concurrent use.
type Validator struct {
	v        validator.Validator
	model    *v3.Document
	events   map[string]*base.Schema // event-stream event name -> schema of its data
	schemas  schema_validation.SchemaValidator
	prefixes map[string]bool // first path segments the document describes, such as "api"
}

// NewValidator builds the embedded document. It fails when the document cannot be built
// (a broken $ref, say); ValidateDocument checks it against the OpenAPI 3.1 schema.
func NewValidator() (*Validator, error) {
	return newValidator(openapi.YAML())
}

func newValidator(doc []byte) (*Validator, error) {
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.DiscardHandler) // errors come back from BuildV3Model instead
	d, err := libopenapi.NewDocumentWithConfiguration(doc, cfg)
	if err != nil {
		return nil, fmt.Errorf("openapi: parse the document: %w", err)
	}
	m, err := d.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("openapi: build the document: %w", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi: build the validator: %w", errors.Join(errs...))
	}
	val := &Validator{v: v, model: &m.Model, schemas: schema_validation.NewSchemaValidator(),
		events: map[string]*base.Schema{}, prefixes: map[string]bool{}}
	if m.Model.Components != nil {
		for name, schema := range map[string]string{"photo": "PhotoEvent", "state": "StateEvent"} {
			if proxy := m.Model.Components.Schemas.GetOrZero(schema); proxy != nil {
				val.events[name] = proxy.Schema()
			}
		}
	}
	for p := range m.Model.Paths.PathItems.KeysFromOldest() {
		val.prefixes[firstSegment(p)] = true
	}
	return val, nil
}

// ValidateDocument checks the document against the OpenAPI 3.1 specification's schema.
func (v *Validator) ValidateDocument() error {
	if ok, errs := v.v.ValidateDocument(); !ok {
		return &ValidationError{What: "document", Problems: problems(errs)}
	}
	return nil
}

// ValidateRequest checks r (path, method, parameters, security, body) against its operation.
// The body is read and put back, so r can still be sent. The error is a *ValidationError.
func (v *Validator) ValidateRequest(r *http.Request) error {
	if err := bufferBody(r); err != nil {
		return err
	}
	// A server sees header names canonicalized; a client may have set them as written
	// (Header["webhook-id"] = ...), which Header.Get would not find.
	check := r.WithContext(r.Context())
	check.Header = canonical(r.Header)
	ok, errs := v.v.ValidateHttpRequestSync(check)
	rewind(r)
	if !ok {
		return &ValidationError{What: "request", Method: r.Method, Path: r.URL.Path, Problems: problems(errs)}
	}
	return nil
}

// ValidateResponse checks resp (status, headers, body) against the operation of r: its status
// must be documented, and a JSON body must match the schema. A JSON body is read and put back;
// an event stream's body is not touched (check its events with ValidateEvent). The error is a
// *ValidationError.
func (v *Validator) ValidateResponse(r *http.Request, resp *http.Response) error {
	check := resp
	if isEventStream(resp.Header.Get("Content-Type")) {
		c := *resp
		c.Body = http.NoBody
		check = &c
	}
	if ok, errs := v.v.ValidateHttpResponse(r, check); !ok {
		return &ValidationError{What: "response", Method: r.Method, Path: r.URL.Path, Status: resp.StatusCode, Problems: problems(errs)}
	}
	return nil
}

// ValidateEvent checks the data of one event-stream event of /api/blueprint/events: event is
// its name ("photo" or "state") and data its JSON. The error is a *ValidationError.
func (v *Validator) ValidateEvent(event string, data []byte) error {
	schema, ok := v.events[event]
	if !ok {
		return &ValidationError{What: "event", Problems: []string{fmt.Sprintf("the document has no schema for event %q (PhotoEvent for photo, StateEvent for state)", event)}}
	}
	if ok, errs := v.schemas.ValidateSchemaBytes(schema, data); !ok {
		return &ValidationError{What: event + " event", Problems: problems(errs)}
	}
	return nil
}

// Describes reports whether r's path lies in a part of the URL space the document describes
// (its first segment is that of a documented path, such as /api/ or /webhooks/). Paths
// elsewhere (the page, /photos/, /metrics, /admin/) are not part of the public API.
func (v *Validator) Describes(r *http.Request) bool {
	return v.prefixes[firstSegment(r.URL.Path)]
}

func firstSegment(p string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return seg
}

// ValidationError lists how a request, response, event or the document differs from the
// document.
type ValidationError struct {
	What     string // "request", "response", "document", "photo event", ...
	Method   string // the request's, when What is request or response
	Path     string
	Status   int // the response's, when What is response
	Problems []string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.What == "document" {
		b.WriteString("openapi: the document breaks the OpenAPI specification:")
		e.writeProblems(&b)
		return b.String()
	}
	b.WriteString("openapi: ")
	b.WriteString(e.What)
	if e.Method != "" {
		fmt.Fprintf(&b, " %s %s", e.Method, e.Path)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (status %d)", e.Status)
	}
	b.WriteString(" does not match the document:")
	e.writeProblems(&b)
	return b.String()
}

func (e *ValidationError) writeProblems(b *strings.Builder) {
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
}

// problems flattens the library's errors to one line per problem, with the field concerned.
func problems(errs []*liberrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		if len(e.SchemaValidationErrors) == 0 {
			out = append(out, strings.TrimSpace(e.Message+": "+e.Reason))
			continue
		}
		for _, s := range e.SchemaValidationErrors {
			field := s.FieldPath
			if field == "" {
				field = "/" + strings.Join(s.InstancePath, "/")
			}
			out = append(out, fmt.Sprintf("%s: %s: %s", e.Message, field, s.Reason))
		}
	}
	if len(out) == 0 {
		out = append(out, "invalid (the validator gave no detail)")
	}
	return out
}

// bufferBody replaces r.Body with an in-memory copy that rewind can restart, and sets GetBody.
func bufferBody(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return fmt.Errorf("openapi: read the request body: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return nil
}

// canonical returns a copy of h with every name in canonical form, as a server sees it.
func canonical(h http.Header) http.Header {
	c := make(http.Header, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		c[ck] = append(c[ck], vs...)
	}
	return c
}

// rewind restarts a body buffered by bufferBody.
func rewind(r *http.Request) {
	if r.GetBody != nil {
		if b, err := r.GetBody(); err == nil {
			r.Body = b
		}
	}
}

func isEventStream(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "text/event-stream"
}
