package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

// These benchmarks measure a paid checkout until the status endpoint says completed,
// with real api and worker processes on the settings an operator gets by default: the
// stack sets nothing but URLs and secrets (newStack), and lifts the status limit for
// the benchmark's own fast polling (pollFast). See docs/benchmarks.md.

// pollFast is the one setting these benchmarks change: payAndWait polls the status
// every 20 ms to time completion closely, and the benchmark with 20 subscribers polls
// them all from one client: more than the per-address limit lets one client poll (20/s).
var pollFast = map[string]string{"RATE_LIMITS": "status=off"}

// payAndWait pays for a new subscriber, from an address of their own, and polls its
// status until completed; it returns the time from the webhook to completion.
func payAndWait(b *testing.B, c *demo.Client, timeout time.Duration) time.Duration {
	b.Helper()
	ctx := context.Background()
	c = fromOwnAddress(b, c)
	defer c.HTTP.CloseIdleConnections()
	email := fmt.Sprintf("bench-%d@example.com", time.Now().UnixNano())
	sub, err := c.CreateSubscriber(ctx, email, "a bench")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	resp, err := c.SendWebhook(ctx, webhookSecret, demo.CheckoutCompleted("evt_"+sub.SubscriberID, sub.SubscriberID, email), time.Now())
	if err != nil || resp.Status != http.StatusOK {
		b.Fatalf("webhook: %v %d", err, resp.Status)
	}
	for {
		st, err := c.GetStatus(ctx, sub.AccessToken)
		if err != nil {
			b.Fatal(err)
		}
		if st.State == "completed" {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			b.Fatalf("not completed after %s: %+v", timeout, st)
		}
		// Every 20 ms: precise enough (10 ms late on average), and light enough not to
		// take the CPU from what is measured on a 2-core machine.
		time.Sleep(20 * time.Millisecond)
	}
}

// withoutWebhooks returns extra settings that leave REPLICATE_WEBHOOK_URL unset: the
// worker then asks for synchronous answers (Prefer: wait).
func withoutWebhooks(s *stack) { delete(s.env, "REPLICATE_WEBHOOK_URL") }

// BenchmarkTimeTo30Photos: a fixed 0.5 s provider latency, with Replicate webhooks and
// without (synchronous answers). The lower bound is 6 x 0.5 s (30 photos, 5 at a time);
// the goal 1.05 x bound + 0.2 s.
func BenchmarkTimeTo30Photos(b *testing.B) {
	const latency = 500 * time.Millisecond
	for _, mode := range []string{"webhooks", "sync"} {
		b.Run(mode, func(b *testing.B) {
			s := newStack(b, fakereplicate.Config{Latency: latency}, pollFast)
			if mode == "sync" {
				withoutWebhooks(s)
			}
			_, c := s.startAPI(b)
			s.startWorker(b)
			var total time.Duration
			b.ResetTimer()
			for range b.N {
				total += payAndWait(b, c, time.Minute)
			}
			b.StopTimer()
			mean := total.Seconds() / float64(b.N)
			bound := 6 * latency.Seconds()
			b.ReportMetric(mean, "s/30photos")
			b.ReportMetric(mean/bound, "x-bound")
			b.ReportMetric(1.05*bound+0.2, "goal-s")
			b.ReportMetric(float64(s.fake.Stats().MaxInFlight), "max-in-flight")
		})
	}
}

// BenchmarkTimeTo30PhotosVaryingLatency: latency uniform in 0.5 to 1.5 s, with
// webhooks. Batches of 5 that wait for their slowest would need about 8 s; refilling
// each slot at once, the bound is 6 x 1.0 s (the mean). Goal: median at most 1.1 x 6 s
// + 0.3 s, never more than 5 in flight.
func BenchmarkTimeTo30PhotosVaryingLatency(b *testing.B) {
	s := newStack(b, fakereplicate.Config{Latency: 500 * time.Millisecond, Jitter: time.Second, Seed: time.Now().UnixNano()}, pollFast)
	_, c := s.startAPI(b)
	s.startWorker(b)
	var runs []float64
	b.ResetTimer()
	for range b.N {
		runs = append(runs, payAndWait(b, c, 2*time.Minute).Seconds())
	}
	b.StopTimer()
	sort.Float64s(runs)
	b.ReportMetric(runs[len(runs)/2], "median-s")
	b.ReportMetric(runs[len(runs)/2]/6, "x-bound")
	b.ReportMetric(1.1*6+0.3, "goal-s")
	b.ReportMetric(float64(s.fake.Stats().MaxInFlight), "max-in-flight")
}

// BenchmarkTwentySubscribersSlowModel: 20 subscribers paid at once, one worker process,
// an 8 s model, the fake enforcing Replicate's limits (600 creates and 3000 other calls a
// minute). Bound: 6 x 8 s = 48 s; goal 1.15 x 48 s + 2 s, at most 0.5 GET or list calls
// per prediction, nothing throttled, worker peak RSS under 100 MiB.
func BenchmarkTwentySubscribersSlowModel(b *testing.B) {
	for range b.N {
		s := newStack(b, fakereplicate.Config{Latency: 8 * time.Second, CreateLimitPerMinute: 600, OtherLimitPerMinute: 3000}, pollFast)
		_, c := s.startAPI(b)
		w := s.startWorker(b)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var slowest time.Duration
		b.ResetTimer()
		for range 20 {
			wg.Go(func() {
				d := payAndWait(b, c, 3*time.Minute)
				mu.Lock()
				slowest = max(slowest, d)
				mu.Unlock()
			})
		}
		wg.Wait()
		b.StopTimer()
		calls, st := s.fake.Calls(), s.fake.Stats()
		reads := calls.Get.Calls + calls.List.Calls
		throttled := calls.Create.Throttled + calls.Get.Throttled + calls.List.Throttled + calls.Cancel.Throttled
		b.ReportMetric(slowest.Seconds(), "s/all-20")
		b.ReportMetric(1.15*48+2, "goal-s")
		b.ReportMetric(float64(reads)/float64(st.Created), "reads/prediction")
		b.ReportMetric(float64(throttled), "throttled")
		b.ReportMetric(float64(st.Created), "predictions")
		b.ReportMetric(peakRSSMiB(b, w), "worker-peak-MiB")
	}
}

// peakRSSMiB reads the process's peak resident set (VmHWM) from /proc.
func peakRSSMiB(b *testing.B, p *proc) float64 {
	b.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}
