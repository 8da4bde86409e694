package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"photogen/internal/fakereplicate"
)

// benchConcurrency is the number of concurrent callers in the benchmarks.
const benchConcurrency = 16

// parallelRate runs total calls of do from benchConcurrency goroutines and returns calls/s.
func parallelRate(b *testing.B, total int, do func(i int) error) float64 {
	return parallelRateN(b, benchConcurrency, total, do)
}

// parallelRateN runs total calls of do from n goroutines and returns calls/s.
func parallelRateN(b *testing.B, n, total int, do func(i int) error) float64 {
	b.Helper()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > total {
					return
				}
				if err := do(i); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	return float64(total) / time.Since(start).Seconds()
}

// BenchmarkConsumeHTTPvsSQL measures accepted consumes through the real api process
// (JWT check, gin, one statement) against consume_usage called directly on a pool, at
// the same concurrency, side by side. Goal: HTTP >= 0.6 x SQL.
func BenchmarkConsumeHTTPvsSQL(b *testing.B) {
	s := newStack(b, fakereplicate.Config{}, map[string]string{
		"AUTH_JWT_SECRET": jwtSecret, "USAGE_LIMITS": "resumes=1000000000,reviews=10", "LOG_LEVEL": os.Getenv("BENCH_LOG_LEVEL")})
	_, c := s.startAPI(b)
	c.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: benchConcurrency}}
	users := make([]uuid.UUID, 1000)
	tokens := make([]string, len(users))
	for i := range users {
		users[i] = uuid.New()
		tokens[i] = userJWT(b, users[i])
	}
	pool, err := pgxpool.New(context.Background(), s.db.URL+"&pool_max_conns=20")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	// The two halves alternate in rounds so that the machine's noise (disk flushes,
	// the other core's load) falls on both alike; the rates are harmonic means.
	const rounds, perRound = 6, 500
	sqlCall := func(i int) error {
		var accepted bool
		err := pool.QueryRow(ctx, `SELECT accepted FROM consume_usage($1, 'resumes', 1000000000)`, users[i%len(users)]).Scan(&accepted)
		if err == nil && !accepted {
			err = fmt.Errorf("refused")
		}
		return err
	}
	httpCall := func(i int) error {
		resp := consume(b, c, tokens[i%len(tokens)], "resumes", nil)
		if resp.Status != http.StatusOK {
			return fmt.Errorf("status %d: %s", resp.Status, resp.Body)
		}
		return nil
	}
	for _, conc := range []int{4, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			var sqlSecs, httpSecs float64
			for range rounds * b.N {
				sqlSecs += perRound / parallelRateN(b, conc, perRound, sqlCall)
				httpSecs += perRound / parallelRateN(b, conc, perRound, httpCall)
			}
			sqlRate, httpRate := float64(rounds*b.N*perRound)/sqlSecs, float64(rounds*b.N*perRound)/httpSecs
			b.ReportMetric(sqlRate, "sql-consumes/s")
			b.ReportMetric(httpRate, "http-consumes/s")
			b.ReportMetric(httpRate/sqlRate, "http/sql")
		})
	}
}

// seedFunction is the seed's approach, for comparison only: lock the row with SELECT ...
// FOR UPDATE and write it even to say no.
const seedFunction = `
CREATE FUNCTION seed_increment_resume_counter(p_user_id uuid, p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_used int;
    v_start timestamptz;
    v_period timestamptz := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
BEGIN
    SELECT used, period_start INTO v_used, v_start FROM usage_counters
    WHERE user_id = p_user_id AND counter = 'resumes' FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO usage_counters (user_id, counter, used, period_start) VALUES (p_user_id, 'resumes', 1, v_period);
        RETURN 1;
    END IF;
    IF v_start < v_period THEN
        v_used := 0;
    END IF;
    IF v_used >= p_limit THEN
        UPDATE usage_counters SET updated_at = now() WHERE user_id = p_user_id AND counter = 'resumes';
        RETURN -1;
    END IF;
    UPDATE usage_counters SET used = v_used + 1, period_start = v_period, updated_at = now()
    WHERE user_id = p_user_id AND counter = 'resumes';
    RETURN v_used + 1;
END;
$$`

// BenchmarkRefusalsVsSelectForUpdate floods one user at the limit (one hot row) and
// compares refusals per second of consume_usage (via increment_resume_counter) with the
// seed's SELECT ... FOR UPDATE function. Goal: >= 10 x.
func BenchmarkRefusalsVsSelectForUpdate(b *testing.B) {
	db := newStack(b, fakereplicate.Config{}, nil).db
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, seedFunction); err != nil {
		b.Fatal(err)
	}
	user := uuid.New()
	for range 3 {
		if _, err := db.Pool.Exec(ctx, `SELECT increment_resume_counter($1, 3)`, user); err != nil {
			b.Fatal(err)
		}
	}
	pool, err := pgxpool.New(ctx, db.URL+"&pool_max_conns=20")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	refuse := func(fn string) func(int) error {
		return func(int) error {
			var n int
			err := pool.QueryRow(ctx, `SELECT `+fn+`($1, 3)`, user).Scan(&n)
			if err == nil && n != -1 {
				err = fmt.Errorf("%s accepted (%d)", fn, n)
			}
			return err
		}
	}
	total := 3000 * b.N
	b.ResetTimer()
	seed := parallelRate(b, total, refuse("seed_increment_resume_counter"))
	ours := parallelRate(b, total, refuse("increment_resume_counter"))
	b.StopTimer()
	b.ReportMetric(seed, "seed-refusals/s")
	b.ReportMetric(ours, "refusals/s")
	b.ReportMetric(ours/seed, "x-seed")
}
