//go:build chaos

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
	"photogen/internal/testdb"
)

// chaosRow is one line of `make chaos`'s summary.
type chaosRow struct {
	scenario              string
	subscribers, photos   int
	created, failed, need int
}

// scale multiplies the scenarios' sizes: CHAOS_SCALE (default 1).
func scale() int {
	if n, err := strconv.Atoi(os.Getenv("CHAOS_SCALE")); err == nil && n > 0 {
		return n
	}
	return 1
}

// finish waits for every subscriber to reach state and sums what was made and paid.
func finish(t *testing.T, s *stack, c *demo.Client, subs []demo.Subscriber, state, name string) chaosRow {
	t.Helper()
	row := chaosRow{scenario: name, subscribers: len(subs)}
	for _, sub := range subs {
		st := waitState(t, c, sub.AccessToken, state, 5*time.Minute)
		row.photos += st.TotalPhotos
		if state == "completed" {
			requireThirtyUnique(t, st)
		}
	}
	for _, got := range ledgerCounts(t, s.db.Pool) {
		row.failed += got[1]
	}
	row.created = s.fake.Stats().Created
	row.need = row.photos
	return row
}

func TestChaos(t *testing.T) {
	n := scale()
	var rows []chaosRow

	t.Run("provider faults", func(t *testing.T) {
		s := newStack(t, fakereplicate.Config{Latency: 50 * time.Millisecond, Jitter: 100 * time.Millisecond, Seed: 1,
			RateLimitRate: 0.1, ServerErrorRate: 0.1, FailRate: 0.1},
			// 50 subscribers' creations exceed the fleet's 600 a minute: this scenario is
			// about faults, not the rate limit (TestFleetRateLimit has its own).
			map[string]string{"PREDICTIONS_PER_MINUTE": "-1"})
		_, c := s.startAPI(t)
		s.startWorker(t)
		s.startWorker(t)
		rows = append(rows, finish(t, s, c, paySubscribers(t, c, 50*n), "completed", "10% 429, 10% 5xx, 10% failed; 2 workers"))
	})

	t.Run("worker killed", func(t *testing.T) {
		s := newStack(t, fakereplicate.Config{Latency: 700 * time.Millisecond, Jitter: 300 * time.Millisecond, Seed: 2}, nil)
		_, c := s.startAPI(t)
		w := s.startWorker(t)
		subs := paySubscribers(t, c, 10*n)
		for range 3 {
			time.Sleep(3 * time.Second)
			w.Signal(syscall.SIGKILL)
			w.Wait(t, 10*time.Second)
			w = s.startWorker(t)
		}
		rows = append(rows, finish(t, s, c, subs, "completed", "worker SIGKILLed 3 times mid-batch"))
	})

	t.Run("postgres restarted", func(t *testing.T) {
		cl := newCluster(t)
		url := cl.createDatabase(t, "photogen")
		pool, err := pgxpool.New(context.Background(), url)
		require.NoError(t, err)
		defer pool.Close()
		s := newStack(t, fakereplicate.Config{Latency: 300 * time.Millisecond, Seed: 3}, nil)
		s.env["DATABASE_URL"] = url
		s.db = &testdb.DB{URL: url, Pool: pool}
		start(t, "migrate", s.env).Wait(t, time.Minute)
		_, c := s.startAPI(t)
		s.startWorker(t)
		subs := paySubscribers(t, c, 10*n)
		for range 2 {
			time.Sleep(2 * time.Second)
			cl.ctl(t, "restart")
		}
		rows = append(rows, finish(t, s, c, subs, "completed", "postgres restarted twice"))
	})

	t.Run("provider fails everything", func(t *testing.T) {
		s := newStack(t, fakereplicate.Config{Latency: 20 * time.Millisecond, FailRate: 1}, nil)
		_, c := s.startAPI(t)
		s.startWorker(t)
		row := finish(t, s, c, paySubscribers(t, c, 5*n), "failed", "provider fails every prediction (budget 40)")
		require.Equal(t, 40*5*n, row.created, "exactly the budget")
		rows = append(rows, row)
	})

	t.Run("refunds", func(t *testing.T) {
		s := newStack(t, fakereplicate.Config{Latency: 400 * time.Millisecond, Seed: 5}, nil)
		_, c := s.startAPI(t)
		s.startWorker(t)
		subs := paySubscribers(t, c, 5*n)
		time.Sleep(1500 * time.Millisecond)
		for _, sub := range subs {
			resp, err := c.SendWebhook(context.Background(), webhookSecret,
				demo.ChargeRefunded("evt_r_"+sub.SubscriberID, demo.PaymentIntent("evt_"+sub.SubscriberID)), time.Now())
			require.NoError(t, err)
			require.Equal(t, 200, resp.Status)
		}
		rows = append(rows, finish(t, s, c, subs, "refunded", "refunded mid-generation"))
	})

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "scenario\tsubscribers\tphotos\tpredictions created\tpredictions needed\tfailed or cancelled\twaste\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", r.scenario, r.subscribers, r.photos, r.created, r.need, r.failed, r.created-r.need-r.failed)
	}
	tw.Flush()
}
