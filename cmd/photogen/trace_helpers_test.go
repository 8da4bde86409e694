// This file reads the spans the tracing test exported: it finds the payment's trace,
// checks that it is one tree, and counts what it holds.

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// genTrace is what one generation's trace holds.
type genTrace struct {
	id         trace.TraceID
	attempts   int             // river.work/generate_photos spans
	creates    int             // prediction.create spans that name their prediction
	kept       map[string]bool // predictions kept, by prediction.keep spans
	appended   int             // photos added, by keeps' and photos.append spans
	statements int             // database statements
	names      map[string]int  // every span name in the trace, counted
	webhooks   int             // Replicate webhooks (their own traces) linked to this one
}

// generationTrace finds the trace of subscriber's payment (its root, the Stripe
// webhook's server span) and checks that it is one tree holding every span that
// names the subscriber, Replicate's webhooks aside: they are traces of their own,
// linked to it.
func generationTrace(t *testing.T, spans tracetest.SpanStubs, subscriber string) genTrace {
	t.Helper()
	var roots []tracetest.SpanStub
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindServer && attr(s, "http.route") == "/webhooks/stripe" {
			roots = append(roots, s)
		}
	}
	require.Len(t, roots, 1, "one Stripe webhook, one server span")
	root := roots[0]
	require.False(t, root.Parent.IsValid(), "the webhook starts the trace")
	require.Equal(t, subscriber, attr(root, "photogen.subscriber_id"))
	g := genTrace{id: root.SpanContext.TraceID(), kept: map[string]bool{}, names: map[string]int{}}

	inTrace := map[trace.SpanID]bool{}
	for _, s := range spans {
		if s.SpanContext.TraceID() == g.id {
			inTrace[s.SpanContext.SpanID()] = true
		}
	}
	for _, s := range spans {
		webhook := attr(s, "http.route") == "/webhooks/replicate"
		if s.SpanContext.TraceID() != g.id {
			require.False(t, attr(s, "photogen.subscriber_id") == subscriber && !webhook,
				"%s names the subscriber but is outside the payment's trace", s.Name)
			if webhook && linksTo(s, g.id) {
				g.webhooks++
			}
			continue
		}
		if s.SpanContext.SpanID() != root.SpanContext.SpanID() {
			require.True(t, inTrace[s.Parent.SpanID()], "%s: its parent is not in the trace", s.Name)
		}
		g.names[s.Name]++
		switch s.Name {
		case "river.work/generate_photos":
			require.Equal(t, subscriber, attr(s, "photogen.subscriber_id"))
			g.attempts++
		case "prediction.create":
			if attr(s, "replicate.prediction_id") != "" {
				g.creates++
			}
		case "prediction.keep":
			g.kept[attr(s, "replicate.prediction_id")] = true
			g.appended += int(attrValue(s, "photogen.photos_appended").AsInt64())
		case "photos.append":
			g.appended += int(attrValue(s, "photogen.photos_appended").AsInt64())
		}
		if attr(s, "db.system.name") == "postgresql" {
			g.statements++
		}
	}
	delete(g.kept, "")
	return g
}

func attr(s tracetest.SpanStub, key string) string {
	v := attrValue(s, key)
	if v.Type() == attribute.EMPTY {
		return ""
	}
	return strings.TrimSpace(v.String())
}

func attrValue(s tracetest.SpanStub, key string) (v attribute.Value) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return v
}

func linksTo(s tracetest.SpanStub, id trace.TraceID) bool {
	for _, l := range s.Links {
		if l.SpanContext.TraceID() == id {
			return true
		}
	}
	return false
}
