// This file tests the switch and its checks, that nothing is installed when tracing is
// off, and, on, the client spans and the trace carried through a job.

package tracing

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var discard = slog.New(slog.DiscardHandler)

func TestConfig(t *testing.T) {
	t.Parallel()
	require.False(t, Config{}.On(), "off by default")
	c := Config{Endpoint: "http://collector:4318"}
	require.True(t, c.On())
	require.NoError(t, c.Validate())
	c.Disabled = true
	require.False(t, c.On())

	bad := Config{Endpoint: "collector:4317", Protocol: "grpc"}
	err := bad.Validate()
	require.ErrorContains(t, err, `Endpoint "collector:4317"`)
	require.ErrorContains(t, err, `Protocol "grpc"`)
	_, err = New(t.Context(), bad, nil, discard)
	require.Error(t, err, "a bad setting stops the process")
}

// Off installs nothing: the code paths are those of a build without tracing.
func TestOffInstallsNothing(t *testing.T) {
	t.Parallel()
	tr, err := New(t.Context(), Config{}, nil, discard)
	require.NoError(t, err)
	require.False(t, tr.On())
	require.Nil(t, tr.RiverMiddleware())
	require.Equal(t, http.DefaultTransport, tr.Transport("x", nil))
	pc, err := pgxpool.ParseConfig("postgres://u@127.0.0.1:1/db")
	require.NoError(t, err)
	tr.InstrumentPool(pc)
	require.Nil(t, pc.ConnConfig.Tracer)
	_, span := tr.Provider().Tracer("t").Start(t.Context(), "s")
	require.False(t, span.IsRecording())
	require.NoError(t, tr.Shutdown(t.Context()))
}

// On with an OTLP endpoint, the provider builds without reaching the collector.
func TestOnWithEndpoint(t *testing.T) {
	t.Parallel()
	tr, err := New(t.Context(), Config{Endpoint: "http://127.0.0.1:1", ServiceName: "photogen-test"}, nil, discard)
	require.NoError(t, err)
	require.True(t, tr.On())
	require.Len(t, tr.RiverMiddleware(), 2)
	require.NoError(t, tr.Shutdown(t.Context()), "nothing to export, nothing to reach")
}

func onForTest(t *testing.T) (*Tracing, *tracetest.InMemoryExporter) {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tr, err := New(t.Context(), Config{ServiceName: "photogen-test"}, spans, discard)
	require.NoError(t, err)
	return tr, spans
}

// flushed ends the provider and returns what it exported.
func flushed(t *testing.T, tr *Tracing, spans *tracetest.InMemoryExporter) tracetest.SpanStubs {
	t.Helper()
	require.NoError(t, tr.sdk.ForceFlush(t.Context()))
	return spans.GetSpans()
}

func TestTransportSpansAndPropagates(t *testing.T) {
	t.Parallel()
	tr, spans := onForTest(t)
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("Traceparent") }))
	defer srv.Close()
	ctx, parent := tr.Provider().Tracer("t").Start(t.Context(), "parent")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/p/123?q=1", nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr.Transport("download", nil)}).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	parent.End()

	stubs := flushed(t, tr, spans)
	require.Len(t, stubs, 2)
	client := stubs[0]
	require.Equal(t, "download GET", client.Name, "named without the path")
	require.Equal(t, parent.SpanContext().SpanID(), client.Parent.SpanID())
	require.Contains(t, got, client.SpanContext.TraceID().String(), "the server got the trace context")
}

// A job's attempt continues the trace that inserted it; a webhook's span links to it.
func TestJobParentAndLink(t *testing.T) {
	t.Parallel()
	tr, spans := onForTest(t)
	tracer := tr.Provider().Tracer("t")
	_, insert := tracer.Start(t.Context(), "insert")
	meta := []byte(`{"other":1,"traceparent":"00-` + insert.SpanContext().TraceID().String() + `-` + insert.SpanContext().SpanID().String() + `-01"}`)
	insert.End()

	var worked trace.SpanContext
	err := tr.RiverMiddleware()[0].(rivertype.WorkerMiddleware).Work(t.Context(), &rivertype.JobRow{Metadata: meta}, func(ctx context.Context) error {
		_, s := tracer.Start(ctx, "attempt")
		worked = s.SpanContext()
		s.End()
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, insert.SpanContext().TraceID(), worked.TraceID(), "the attempt is in the insert's trace")

	_, hook := tracer.Start(context.Background(), "webhook")
	LinkJob(trace.ContextWithSpan(context.Background(), hook), meta)
	LinkJob(trace.ContextWithSpan(context.Background(), hook), []byte(`{}`)) // nothing to link
	hook.End()
	stubs := flushed(t, tr, spans)
	require.Len(t, stubs, 3)
	require.Equal(t, insert.SpanContext().SpanID(), stubs[1].Parent.SpanID(), "the insert is the attempt's parent")
	require.Len(t, stubs[2].Links, 1)
	require.Equal(t, insert.SpanContext().SpanID(), stubs[2].Links[0].SpanContext.SpanID())
}
