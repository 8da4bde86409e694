package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

// requestsPerIteration is how many requests one iteration of the throughput benchmarks
// sends, 16 at a time.
const requestsPerIteration = 2000

// BenchmarkWebhookThroughput sends signed checkout events, each with its own id, for
// 200 subscribers: the first per subscriber marks it paid and enqueues its job, the rest
// lock the row and find the job already there. No worker runs.
func BenchmarkWebhookThroughput(b *testing.B) {
	s := newStack(b, fakereplicate.Config{}, nil)
	_, c := s.startAPI(b)
	ctx := context.Background()
	type subscriber struct{ id, email string }
	subs := make([]subscriber, 200)
	for i := range subs {
		subs[i].email = fmt.Sprintf("wh-%d@example.com", i)
		own := fromOwnAddress(b, c)
		sub, err := own.CreateSubscriber(ctx, subs[i].email, "p")
		own.HTTP.CloseIdleConnections()
		if err != nil {
			b.Fatal(err)
		}
		subs[i].id = sub.SubscriberID
	}
	var seq atomic.Int64
	throughput(b, func() (int, error) {
		n := seq.Add(1)
		sub := subs[n%int64(len(subs))]
		resp, err := c.SendWebhook(ctx, webhookSecret, demo.CheckoutCompleted(fmt.Sprintf("evt_tp_%d", n), sub.id, sub.email), time.Now())
		return resp.Status, err
	})
}

// BenchmarkStatusThroughput polls the status endpoint as front ends do, plain and with
// If-None-Match (answered 304).
func BenchmarkStatusThroughput(b *testing.B) {
	// The endpoint's own throughput, from one client: with the per-address limit on
	// (20/s) it would measure the limiter's 429s.
	s := newStack(b, fakereplicate.Config{}, map[string]string{"RATE_LIMITS": "status=off"})
	_, c := s.startAPI(b)
	ctx := context.Background()
	sub, err := c.CreateSubscriber(ctx, "status@example.com", "p")
	if err != nil {
		b.Fatal(err)
	}
	auth := http.Header{"Authorization": {"Bearer " + sub.AccessToken}}
	first, err := c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, auth)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("200", func(b *testing.B) {
		throughput(b, func() (int, error) {
			resp, err := c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, auth)
			return resp.Status, err
		})
	})
	b.Run("304", func(b *testing.B) {
		cond := http.Header{"Authorization": auth["Authorization"], "If-None-Match": {first.Header.Get("ETag")}}
		throughput(b, func() (int, error) {
			resp, err := c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, cond)
			if resp.Status == http.StatusNotModified {
				return http.StatusOK, err
			}
			return resp.Status, err
		})
	})
}

// throughput runs requestsPerIteration x b.N calls of do, 16 at a time, and reports
// requests per second; any answer but 200 fails the benchmark.
func throughput(b *testing.B, do func() (int, error)) {
	b.Helper()
	b.ResetTimer()
	rate := parallelRate(b, requestsPerIteration*b.N, func(int) error {
		status, err := do()
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d", status)
		}
		return err
	})
	b.StopTimer()
	b.ReportMetric(rate, "req/s")
}
