package e2e

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
	"photogen/openapi/contract"
	"photogen/store"
)

// BenchmarkEventStreams: 500 event streams on one api process (the worker a process of
// its own) while 10 subscribers generate, 50 streams each, opened before the payments.
// Each stream drops its connection once mid-generation (after photo 3 to 22, spread) and
// resumes with Last-Event-ID; every stream must see photos 1 to 30 of its subscriber in
// order, once each, then completed. The delay is from the trigger's clock_timestamp (in
// the appending transaction, just before its commit: an upper bound on the delay from the
// commit) to the event's arrival at the client, read from the notices on a connection of
// the benchmark's own. Nothing is tuned: the streams come from 10 loopback addresses (50
// each, 100 requests, within the status class's burst of 200 per address), 500
// connections under HTTP_MAX_CONNECTIONS' 1024. See docs/benchmarks.md.
func BenchmarkEventStreams(b *testing.B) {
	const subscribers, perSubscriber = 10, 50
	for range b.N {
		s := newStack(b, fakereplicate.Config{Latency: 500 * time.Millisecond, Jitter: 500 * time.Millisecond, Seed: 21}, nil)
		api, c := s.startAPI(b)
		s.startWorker(b)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()

		// The notices, as the api hears them: (subscriber, photos so far) -> the trigger's clock.
		conn, err := pgx.Connect(ctx, s.db.URL)
		require.NoError(b, err)
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, "LISTEN "+store.SubscriberChannel)
		require.NoError(b, err)
		var mu sync.Mutex
		notices := map[string][]store.SubscriberNotice{}
		lctx, stopListening := context.WithCancel(ctx)
		listened := make(chan struct{})
		go func() {
			defer close(listened)
			for {
				n, err := conn.WaitForNotification(lctx)
				if err != nil {
					return
				}
				notice, err := store.ParseSubscriberNotice(n.Payload)
				if err == nil {
					mu.Lock()
					notices[notice.SubscriberID.String()] = append(notices[notice.SubscriberID.String()], notice)
					mu.Unlock()
				}
			}
		}()

		spec := newSpec(b)
		subs := make([]demo.Subscriber, subscribers)
		for i := range subs {
			subs[i] = signUp(b, c, i)
		}
		type result struct {
			sub string
			f   followed
			err error
		}
		results := make(chan result, subscribers*perSubscriber)
		var opened sync.WaitGroup
		for i, sub := range subs {
			client := fromOwnAddress(b, c)
			for j := range perSubscriber {
				opened.Add(1)
				go func() {
					f, err := followWithOneDrop(ctx, client, spec, sub.AccessToken, 3+(i*perSubscriber+j)%20, opened.Done)
					results <- result{sub: sub.SubscriberID, f: f, err: err}
				}()
			}
		}
		opened.Wait()
		b.ResetTimer()
		for _, sub := range subs {
			pay(b, c, sub)
		}
		var all []result
		for range subscribers * perSubscriber {
			r := <-results
			require.NoError(b, r.err)
			require.Len(b, r.f.photos, 30, "subscriber %s", r.sub)
			for k, id := range r.f.photos {
				require.Equal(b, k+1, id)
			}
			require.Equal(b, "completed", r.f.state)
			require.Equal(b, 1, r.f.reconnects)
			all = append(all, r)
		}
		// The benchmark's own listener may hear the last notices after a client got them.
		require.Eventually(b, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, sub := range subs {
				ns := notices[sub.SubscriberID]
				if len(ns) == 0 || ns[len(ns)-1].Photos < 30 {
					return false
				}
			}
			return true
		}, 10*time.Second, 10*time.Millisecond)
		var delays []float64
		for _, r := range all {
			ns := notices[r.sub]
			for k, at := range r.f.at {
				for _, n := range ns { // the first notice that holds photo k+1
					if n.Photos >= k+1 {
						delays = append(delays, at.Sub(n.At).Seconds()*1000)
						break
					}
				}
			}
		}
		b.StopTimer()
		stopListening()
		<-listened
		require.Len(b, delays, subscribers*perSubscriber*30, "a notice for every photo")
		sort.Float64s(delays)
		b.ReportMetric(delays[len(delays)*95/100], "p95-delay-ms")
		b.ReportMetric(delays[len(delays)/2], "p50-delay-ms")
		b.ReportMetric(delays[len(delays)-1], "max-delay-ms")
		b.ReportMetric(float64(peakRSS(b, api.cmd.Process.Pid))/(1<<20), "api-peak-rss-MiB")
	}
}

// followWithOneDrop follows a stream like follow, but drops the connection once, right
// after photo drop, and resumes with Last-Event-ID. opened is called once the first
// connection is answered.
func followWithOneDrop(ctx context.Context, c *demo.Client, spec *contract.Validator, token string, drop int, opened func()) (followed, error) {
	var f followed
	last := 0
	s, resp, err := c.Events(ctx, token, 0)
	opened()
	if err != nil {
		return f, err
	}
	if s == nil {
		return f, fmt.Errorf("events: status %d: %s", resp.Status, resp.Body)
	}
	for last < drop {
		ev, err := s.Next()
		if err != nil {
			_ = s.Close()
			return f, fmt.Errorf("before the drop: %w", err)
		}
		if ev.Name != "photo" {
			continue
		}
		if err := spec.ValidateEvent(ev.Name, []byte(ev.Data)); err != nil {
			return f, err
		}
		if ev.ID != strconv.Itoa(last+1) {
			return f, fmt.Errorf("photo %s after %d", ev.ID, last)
		}
		last++
		f.photos = append(f.photos, last)
		f.at = append(f.at, time.Now())
	}
	_ = s.Close()
	f.reconnects++
	s, resp, err = c.Events(ctx, token, last)
	if err != nil {
		return f, err
	}
	if s == nil {
		return f, fmt.Errorf("events after the drop: status %d: %s", resp.Status, resp.Body)
	}
	defer s.Close()
	final, err := readStream(s, spec, &f, &last)
	if err == nil && !final {
		err = fmt.Errorf("the stream ended before a final state, after photo %d", last)
	}
	return f, err
}

// peakRSS returns the process's peak resident set (VmHWM), in bytes.
func peakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}
