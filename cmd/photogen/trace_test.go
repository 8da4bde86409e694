// This file checks tracing end to end, in process: `photogen all` as the binary wires
// it, against a real database and the in-process fake Replicate, with spans going to an
// in-memory exporter instead of OTLP. One payment must be one trace.

package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"photogen/internal/demo"
	"photogen/internal/testdb"
)

// keptSpans is an in-memory exporter that keeps its spans when the provider shuts
// down (tracetest's forgets them), so that the test reads them after serve returns.
type keptSpans struct{ *tracetest.InMemoryExporter }

func (keptSpans) Shutdown(context.Context) error { return nil }

// lockedBuffer is the process's stderr, read once it has stopped.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func TestOnePaymentIsOneTrace(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	const secret = "whsec_trace_test"
	vars := map[string]string{
		"DATABASE_URL":          db.URL,
		"HTTP_ADDR":             addr,
		"STRIPE_WEBHOOK_SECRET": secret,
		"PHOTO_NAME_SECRET":     "trace-test-photo-name-secret",
		"STORAGE_DIR":           t.TempDir(),
		// As under `make run`: the in-process fake Replicate calls the api back, so the
		// job sleeps between attempts and is woken by webhooks, and the trace has to
		// survive that. Nothing else is tuned.
		"REPLICATE_WEBHOOK_URL": "http://" + addr + "/webhooks/replicate",
	}
	cfg, err := loadConfig(getenv(vars), usesDatabase|usesAPI|usesWorker)
	require.NoError(t, err)
	spans := keptSpans{tracetest.NewInMemoryExporter()}
	var stderr lockedBuffer
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, usesAPI|usesWorker, cfg, env{getenv: getenv(vars), stdout: &bytes.Buffer{}, stderr: &stderr, spans: spans})
	}()

	client := &demo.Client{BaseURL: "http://" + addr, HTTP: &http.Client{Timeout: 30 * time.Second}}
	require.Eventually(t, func() bool {
		resp, err := client.Do(ctx, http.MethodGet, "/readyz", nil, nil)
		return err == nil && resp.Status == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "photogen never became ready")
	sub, err := client.CreateSubscriber(ctx, "trace@example.com", "a lighthouse at dusk")
	require.NoError(t, err)
	resp, err := client.SendWebhook(ctx, secret, demo.CheckoutCompleted("evt_trace", sub.SubscriberID, "trace@example.com"), time.Now())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Eventually(t, func() bool {
		st, err := client.GetStatus(ctx, sub.AccessToken)
		return err == nil && st.State == "completed" && st.TotalPhotos == 30
	}, 90*time.Second, 100*time.Millisecond, "the 30 photos never came")
	stop()
	require.NoError(t, <-served) // shut down: every span ended and exported

	g := generationTrace(t, spans.GetSpans(), sub.SubscriberID)
	t.Logf("trace %s: %d attempts, %d creates, %d kept, %d appended, %d statements, %d linked webhooks; spans by name: %v",
		g.id, g.attempts, g.creates, len(g.kept), g.appended, g.statements, g.webhooks, g.names)
	require.GreaterOrEqual(t, g.attempts, 2, "the job slept and ran again at least once")
	require.GreaterOrEqual(t, g.creates, 30, "a create span per prediction")
	require.GreaterOrEqual(t, len(g.kept), 30, "a keep span per photo, each naming its prediction")
	require.Equal(t, 30, g.appended, "the keeps' appends (and a look's) add up to the 30 photos")
	require.GreaterOrEqual(t, g.names["replicate POST"], 30, "the provider's HTTP calls are in the trace")
	require.GreaterOrEqual(t, g.names["download GET"], 30, "the downloads are in the trace")
	require.Positive(t, g.statements, "the database statements are in the trace")
	require.GreaterOrEqual(t, g.webhooks, 30, "Replicate's webhooks, traces of their own, link to the generation")

	// The worker's log lines carry the trace id, to go from a log line to the trace.
	stderr.mu.Lock()
	logs := stderr.buf.String()
	stderr.mu.Unlock()
	require.Contains(t, logs, `"msg":"generation attempt started"`)
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"msg":"generation attempt started"`) {
			require.Contains(t, line, `"trace_id":"`+g.id.String()+`"`)
		}
	}
}
