//go:build chaos

package e2e

// This file is issue 18's infrastructure faults, for `make chaos`: connections reset,
// frozen, a worker's host that vanishes, the provider down, the photo store full (and,
// from recovery_test.go and restart_test.go, lost webhooks and a PostgreSQL outage). Each
// runs on the defaults (only URLs and secrets set), asserts its acceptance bound, and
// adds its figures to the table TestChaosFaults prints.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
	"photogen/internal/testdb"
)

// apiSessions and workerSessions are what one photogen process may hold on PostgreSQL on
// the defaults: its pool (DATABASE_MAX_CONNS: api 10, worker 6 with webhooks, as every
// stack here has; cmd/photogen/config.go) and its listeners (live's in an api; River's
// and the wake-up bell's, worker/wake.go, in a worker).
const (
	apiSessions    = 10 + 1
	workerSessions = 6 + 2
)

// delayGrace is how long after the provider goes down the status may still not show the
// delay: an attempt meets the outage after its own tries (creates 4 in about 3 s, a
// download 3 in 1.5 s), or at its next turn when it was lingering.
const delayGrace = 10 * time.Second

func TestChaosFaults(t *testing.T) {
	table := &faultTable{}
	t.Run("faults", func(t *testing.T) {
		for name, scenario := range map[string]func(*testing.T, *faultTable){
			"resets": resets, "frozen": frozenConnections, "vanished host": vanishedHost, "latency": latency,
			"provider down": providerDown, "store full": storeFull,
			"webhooks lost": webhooksLost, "postgres down": postgresRestarted,
		} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				scenario(t, table)
			})
		}
	})
	table.print(os.Stdout)
}

// faultSchedule calls fault and then heal n times within span, each fault in its own
// slot of span/n and lasting 1 to 4 s (drawn from seed), and returns when the last healed.
func faultSchedule(n int, span time.Duration, seed uint64, fault, heal func()) time.Time {
	rng := rand.New(rand.NewPCG(seed, 18))
	began := time.Now()
	for i := range n {
		time.Sleep(time.Until(began.Add(time.Duration(i) * span / time.Duration(n))))
		fault()
		time.Sleep(time.Second + time.Duration(rng.Int64N(int64(3*time.Second))))
		heal()
	}
	return time.Now()
}

// hostPort returns rawURL's host:port.
func hostPort(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	return u.Host
}

// withHost returns rawURL with its host:port replaced.
func withHost(t testing.TB, rawURL, host string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	u.Host = host
	return u.String()
}

// resets: the connections of two workers to PostgreSQL and to the provider are reset 8
// times in 45 s (1 to 4 s each, new connections refused meanwhile) while 10 generations
// run. Every generation is done within 20 s of the last fault healing, none paid twice.
func resets(t *testing.T, table *faultTable) {
	s, pg, prov, c, workers := behindProxies(t, 18)
	subs := paySubscribers(t, c, 10*scale())
	healed := faultSchedule(8, 45*time.Second, 1,
		func() { pg.Reset(); prov.Reset() }, func() { pg.Heal(); prov.Heal() })
	settleWorkers(t, table, s, c, subs, workers, healed, faultRow{
		fault:   "worker<->PostgreSQL and worker<->provider reset 8x in 45 s, 10 generations, 2 workers",
		measure: "last fault healed -> all completed", bound: 20 * time.Second})
}

// latency: 100 ms added each way between two workers and PostgreSQL, and between them and
// the provider (a database in another region, a congested link), for 30 s while 10
// generations run. Nothing is lost or paid twice, no worker exits, and the generations are
// done within 20 s of the link's return.
func latency(t *testing.T, table *faultTable) {
	s, pg, prov, c, workers := behindProxies(t, 19)
	subs := paySubscribers(t, c, 10*scale())
	pg.SetLatency(100 * time.Millisecond)
	prov.SetLatency(100 * time.Millisecond)
	time.Sleep(30 * time.Second)
	pg.SetLatency(0)
	prov.SetLatency(0)
	back := time.Now()
	settleWorkers(t, table, s, c, subs, workers, back, faultRow{
		fault:   "100 ms added each way, worker<->PostgreSQL and worker<->provider, 30 s, 10 generations, 2 workers",
		measure: "latency gone -> all completed", bound: 20 * time.Second})
}

// settleWorkers waits for subs to settle, measures r from from, adds it to table and checks
// its bound, and that none of workers exited.
func settleWorkers(t *testing.T, table *faultTable, s *stack, c *demo.Client, subs []demo.Subscriber, workers []*proc, from time.Time, r faultRow) {
	t.Helper()
	r.recovered = since(settle(t, s, c, subs, 5*time.Minute, &r), from)
	r.note = exited(workers)
	table.add(r)
	r.check(t)
	assert.Empty(t, r.note, "no worker exited")
}

// behindProxies starts an api and two started workers that reach PostgreSQL and the
// fake (a 2 s model, jitter 1 s, seeded with seed) through fault proxies of the test's own.
func behindProxies(t *testing.T, seed int64) (s *stack, pg, prov *faultProxy, c *demo.Client, workers []*proc) {
	t.Helper()
	s = newStack(t, fakereplicate.Config{Latency: 2 * time.Second, Jitter: time.Second, Seed: seed}, nil)
	pg = newFaultProxy(t, "127.0.0.1", hostPort(t, s.env["DATABASE_URL"]))
	prov = newFaultProxy(t, "127.0.0.1", hostPort(t, s.env["REPLICATE_BASE_URL"]))
	_, c = s.startAPI(t)
	over := map[string]string{"DATABASE_URL": withHost(t, s.env["DATABASE_URL"], pg.addr),
		"REPLICATE_BASE_URL": "http://" + prov.addr + "/v1"}
	workers = []*proc{s.startWorkerIn(t, nil, over), s.startWorkerIn(t, nil, over)}
	waitStarted(t, workers...)
	return s, pg, prov, c, workers
}

// waitStarted waits until every worker of ps has started its River client: the faults are
// for running workers (one whose start-up meets a fault exits, on purpose, for its
// supervisor to start it again).
func waitStarted(t *testing.T, ps ...*proc) {
	t.Helper()
	for _, p := range ps {
		require.Eventually(t, func() bool { return strings.Contains(p.Output(), "River client started") },
			time.Minute, 20*time.Millisecond, "worker never started: %s", p.Output())
	}
}

// exited names the processes of ps that have exited, or returns "".
func exited(ps []*proc) string {
	var out []string
	for i, p := range ps {
		select {
		case <-p.done:
			out = append(out, fmt.Sprintf("process %d exited", i))
		default:
		}
	}
	return strings.Join(out, ", ")
}

// nsStack is a stack whose database is a cluster of the test's own, with PostgreSQL's
// default max_connections (100), that the namespaces reach on their host ends; the test's
// own sessions are named e2e-observer so that sessions() leaves them out.
func nsStack(t *testing.T, fc fakereplicate.Config, nss ...*netns) *stack {
	t.Helper()
	hosts := make([]string, len(nss))
	for i, ns := range nss {
		hosts[i] = ns.host
	}
	cl := newClusterOn(t, 0, hosts...)
	dbURL := cl.createDatabase(t, "photogen")
	pool, err := pgxpool.New(context.Background(), dbURL+"&application_name=e2e-observer")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := newStack(t, fc, nil)
	s.env["DATABASE_URL"] = dbURL
	s.db = &testdb.DB{URL: dbURL, Pool: pool}
	start(t, "migrate", s.env).Wait(t, time.Minute)
	return s
}

// startWorkerInNetns starts a worker inside ns: PostgreSQL on ns's host end, the provider
// through a proxy listening there.
func (s *stack) startWorkerInNetns(t *testing.T, ns *netns) *proc {
	t.Helper()
	_, port, err := net.SplitHostPort(hostPort(t, s.env["DATABASE_URL"]))
	require.NoError(t, err)
	prov := newFaultProxy(t, ns.host, hostPort(t, s.env["REPLICATE_BASE_URL"]))
	return s.startWorkerIn(t, ns.prefix(), map[string]string{
		"DATABASE_URL":       withHost(t, s.env["DATABASE_URL"], net.JoinHostPort(ns.host, port)),
		"REPLICATE_BASE_URL": "http://" + prov.addr + "/v1",
	})
}

// sessions counts the sessions PostgreSQL holds on s's database for photogen's processes
// (every one but the test's own observers and probes).
func sessions(t *testing.T, s *stack) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name NOT IN ('e2e-observer', 'e2e-probe')`).Scan(&n))
	return n
}

// sessionsSettle samples sessions() every 500 ms for window after from, and returns how
// long after from they were last above bound (0 when never; -1 when still above at the
// end of window), and the highest count seen.
func sessionsSettle(t *testing.T, s *stack, bound int, from time.Time, window time.Duration) (time.Duration, int) {
	t.Helper()
	var lastAbove time.Duration
	peak := 0
	for ; time.Since(from) < window; time.Sleep(500 * time.Millisecond) {
		n := sessions(t, s)
		peak = max(peak, n)
		if n > bound {
			lastAbove = time.Since(from)
		}
	}
	if sessions(t, s) > bound {
		return -1, peak
	}
	return lastAbove, peak
}

// refusals connects to s's database every 250 ms until the returned function is called,
// which returns how many connections PostgreSQL refused for too many clients (SQLSTATE
// 53300), counting as well the processes' own reports of it in their output.
func refusals(t *testing.T, s *stack, ps ...*proc) func() int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	refused := 0
	wg.Go(func() {
		for ctx.Err() == nil {
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			conn, err := pgx.Connect(cctx, s.db.URL+"&application_name=e2e-probe")
			ccancel()
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "53300" {
				refused++
			}
			if conn != nil {
				conn.Close(context.Background())
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
	return func() int {
		cancel()
		wg.Wait()
		for _, p := range ps {
			refused += strings.Count(p.Output(), "too many clients")
		}
		return refused
	}
}

// frozenConnections: two workers, each in a network namespace of its own, have every
// packet to and from PostgreSQL and the provider dropped 10 times in a minute (1 to 4 s
// each) while 10 generations run. Within 90 s of the last fault, PostgreSQL's sessions for
// photogen are back under the live processes' pools plus listeners, and no client is
// refused for too many connections.
func frozenConnections(t *testing.T, table *faultTable) {
	ns1, ns2 := newNetns(t), newNetns(t)
	s := nsStack(t, fakereplicate.Config{Latency: 2 * time.Second, Jitter: time.Second, Seed: 19}, ns1, ns2)
	api, c := s.startAPI(t)
	w1, w2 := s.startWorkerInNetns(t, ns1), s.startWorkerInNetns(t, ns2)
	waitStarted(t, w1, w2)
	refused := refusals(t, s, api, w1, w2)
	subs := paySubscribers(t, c, 10*scale())
	healed := faultSchedule(10, time.Minute, 2,
		func() { ns1.Cut(t); ns2.Cut(t) }, func() { ns1.Mend(t); ns2.Mend(t) })
	bound := apiSessions + 2*workerSessions
	settled, peak := sessionsSettle(t, s, bound, healed, 90*time.Second)
	r := faultRow{fault: "worker connections frozen 10x in 60 s, 10 generations, 2 workers",
		measure: fmt.Sprintf("last fault healed -> sessions <= %d", bound), bound: 90 * time.Second, recovered: settled}
	completed := since(settle(t, s, c, subs, 5*time.Minute, &r), healed)
	r.recovered = settled
	n := refused()
	r.note = fmt.Sprintf("peak %d sessions; all completed: %s after; %d refused for too many clients", peak, took(completed), n)
	table.add(r)
	r.check(t)
	assert.Zero(t, n, "no client refused for too many connections")
}

// vanishedHost: a worker's host vanishes mid-generation (its namespace's link cut: every
// packet dropped, then the process killed, so no FIN, RST or keepalive answer ever comes)
// and a new worker starts at once. Within 90 s, PostgreSQL's sessions for photogen are
// back under the live processes' pools plus listeners, no client is refused, and the
// vanished worker's generations finish within the rescue window
// (RESCUE_STUCK_JOBS_AFTER's default 60 s plus River's rescuer period, 30 s).
func vanishedHost(t *testing.T, table *faultTable) {
	ns := newNetns(t)
	s := nsStack(t, fakereplicate.Config{Latency: time.Second, Seed: 20}, ns)
	api, c := s.startAPI(t)
	gone := s.startWorkerInNetns(t, ns)
	subs := paySubscribers(t, c, 10*scale())
	require.Eventually(t, func() bool { return s.fake.Stats().Created >= 60 }, time.Minute, 10*time.Millisecond)
	ns.Cut(t)
	gone.Signal(syscall.SIGKILL)
	vanished := time.Now()
	gone.Wait(t, 10*time.Second)
	next := s.startWorker(t)
	refused := refusals(t, s, api, next)

	type result struct {
		settled time.Duration
		peak    int
	}
	conns := make(chan result, 1)
	go func() {
		settled, peak := sessionsSettle(t, s, apiSessions+workerSessions, vanished, 90*time.Second)
		conns <- result{settled, peak}
	}()
	gens := faultRow{fault: "worker's host vanished mid-generation, new worker at once: generations",
		measure: "vanished -> all completed", bound: 90 * time.Second}
	gens.recovered = since(settle(t, s, c, subs, 5*time.Minute, &gens), vanished)
	got := <-conns
	n := refused()
	sess := faultRow{fault: "worker's host vanished mid-generation, new worker at once: sessions",
		measure: fmt.Sprintf("vanished -> sessions <= %d", apiSessions+workerSessions), bound: 90 * time.Second,
		recovered: got.settled, note: fmt.Sprintf("peak %d sessions, %d at the end; %d refused", got.peak, sessions(t, s), n)}
	table.add(gens)
	table.add(sess)
	gens.check(t)
	assert.True(t, sess.recovered >= 0 && sess.recovered <= sess.bound, "sessions: %s", sess.note)
	assert.Zero(t, n, "no client refused for too many connections")
}

// providerDown: the provider is down for 60 s mid-generation, 20 s each of 503s, timeouts
// (connections frozen) and refused connections. Work resumes within 5 s of its return,
// nothing is wasted, and (once delayFieldLanded) the status shows the delay meanwhile.
func providerDown(t *testing.T, table *faultTable) {
	s := newStack(t, fakereplicate.Config{Latency: time.Second, Seed: 21}, nil)
	prov := newFaultProxy(t, "127.0.0.1", hostPort(t, s.env["REPLICATE_BASE_URL"]))
	_, c := s.startAPI(t)
	s.startWorkerIn(t, nil, map[string]string{"REPLICATE_BASE_URL": "http://" + prov.addr + "/v1"})
	subs := paySubscribers(t, c, 5)
	require.Eventually(t, func() bool { return s.fake.Stats().Created >= 25 }, time.Minute, 10*time.Millisecond)

	watch := watchDelay(t, c, subs[0].AccessToken)
	down := time.Now()
	for _, fault := range []func(){prov.Serve503, prov.Freeze, prov.Reset} {
		fault()
		time.Sleep(20 * time.Second)
	}
	prov.Heal()
	back := time.Now()
	polls := watch()
	r := faultRow{fault: "provider down 60 s (503, timeouts, refused) mid-generation, 5 subscribers",
		measure: "provider back -> next creation or photo", bound: 5 * time.Second}
	r.recovered = firstProgressAfter(t, s, back, 3*time.Minute)
	settle(t, s, c, subs, 5*time.Minute, &r)
	shown, polled, firstShown := 0, 0, time.Duration(-1)
	for _, p := range polls {
		if p.at.Before(down) || p.at.After(back) {
			continue
		}
		if p.delayed && firstShown < 0 {
			firstShown = p.at.Sub(down)
		}
		if p.at.Sub(down) >= delayGrace {
			polled++
			if p.delayed {
				shown++
			}
		}
	}
	r.note = fmt.Sprintf("delay shown %.1f s after the outage began, then in %d of %d polls", firstShown.Seconds(), shown, polled)
	table.add(r)
	r.check(t)
	assert.Positive(t, polled)
	assert.Equal(t, polled, shown, "the status shows the delay throughout the outage (after %s)", delayGrace)
	resp, err := c.Do(context.Background(), http.MethodGet, "/api/blueprint/status", nil,
		http.Header{"Authorization": {"Bearer " + subs[0].AccessToken}})
	require.NoError(t, err)
	assert.False(t, statusShowsDelay(resp.Body), "no delay once the generation is done: %s", resp.Body)
}

// delayPoll is one poll of watchDelay: when, and whether the status showed a delay.
type delayPoll struct {
	at      time.Time
	delayed bool
}

// watchDelay polls token's status every second until the returned function is called,
// which returns the polls answered 200, each with whether it showed a delay.
func watchDelay(t *testing.T, c *demo.Client, token string) func() []delayPoll {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var polls []delayPoll
	wg.Go(func() {
		for ctx.Err() == nil {
			resp, err := c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, http.Header{"Authorization": {"Bearer " + token}})
			if err == nil && resp.Status == http.StatusOK {
				polls = append(polls, delayPoll{at: time.Now(), delayed: statusShowsDelay(resp.Body)})
			}
			time.Sleep(time.Second)
		}
	})
	return func() []delayPoll {
		cancel()
		wg.Wait()
		return polls
	}
}

// statusShowsDelay reports whether a status body says the generation is delayed, with a
// machine-readable reason: {"delay": {"reason": "...", "since": "..."}}.
func statusShowsDelay(body []byte) bool {
	var st struct {
		Delay *struct {
			Reason string `json:"reason"`
		} `json:"delay"`
	}
	return json.Unmarshal(body, &st) == nil && st.Delay != nil && st.Delay.Reason != ""
}

// storeFull: the local photo directory is a small tmpfs, mounted in a mount namespace of
// the test's own that the api and the worker run in, and it is filled up for 30 s
// mid-generation. Every generation completes, every photo can be fetched, none paid twice.
func storeFull(t *testing.T, table *faultTable) {
	s := newStack(t, fakereplicate.Config{Latency: time.Second, Seed: 22}, nil)
	dir := s.env["STORAGE_DIR"]
	mnt := mountNamespace(t)
	run(t, "", "nsenter", "-t", mnt, "-m", "--", "mount", "-t", "tmpfs", "-o", "size=8m", "photogen-e2e", dir)
	enter := []string{"nsenter", "-t", mnt, "-m", "--"}
	startCmd(t, "api", exec.Command(enter[0], append(enter[1:], binary, "api")...), s.env)
	c := s.readyClient(t)
	s.startWorkerIn(t, enter, nil)
	subs := paySubscribers(t, c, 5)
	require.Eventually(t, func() bool { return s.fake.Stats().Created >= 25 }, time.Minute, 10*time.Millisecond)

	filler := filepath.Join(dir, "filler")
	fs, err := exec.Command(enter[0], append(enter[1:], "stat", "-f", "-c", "%T", dir)...).Output()
	require.NoError(t, err)
	require.Equal(t, "tmpfs", strings.TrimSpace(string(fs)), "the photo directory is the test's small file system")
	// dd ends with "No space left on device": the file system is full, as intended. It
	// writes 16 MB at most, twice the file system: never more, wherever it writes.
	_ = exec.Command(enter[0], append(enter[1:], "dd", "if=/dev/zero", "of="+filler, "bs=64k", "count=256")...).Run()
	time.Sleep(30 * time.Second)
	run(t, "", enter[0], append(enter[1:], "rm", filler)...)
	freed := time.Now()
	r := faultRow{fault: "photo store (local directory) full for 30 s mid-generation, 5 subscribers",
		measure: "room again -> all completed", bound: 30 * time.Second}
	r.recovered = since(settle(t, s, c, subs, 5*time.Minute, &r), freed)
	missing := 0
	for _, sub := range subs {
		st, err := c.GetStatus(context.Background(), sub.AccessToken)
		require.NoError(t, err)
		for _, u := range st.PhotoURLs {
			resp, err := http.Get(u)
			if err != nil || resp.StatusCode != http.StatusOK {
				missing++
			}
			if err == nil {
				resp.Body.Close()
			}
		}
	}
	r.note = strconv.Itoa(missing) + " photos missing"
	table.add(r)
	r.check(t)
	assert.Zero(t, missing, "every photo can be fetched")
}

// mountNamespace starts a process that holds a private mount namespace of the test's own
// (stopped when t ends, after the processes that joined it) and returns its pid for nsenter.
func mountNamespace(t *testing.T) string {
	t.Helper()
	holder := exec.Command("unshare", "--mount", "--propagation", "private", "sleep", "infinity")
	require.NoError(t, holder.Start())
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	pid := strconv.Itoa(holder.Process.Pid)
	// Start returns before unshare has left this namespace: until it has, nsenter would
	// enter ours, and a mount (or a dd meant for the small file system) would land on the
	// machine's own.
	ours, err := os.Readlink("/proc/self/ns/mnt")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		theirs, err := os.Readlink("/proc/" + pid + "/ns/mnt")
		return err == nil && theirs != ours
	}, 10*time.Second, 5*time.Millisecond, "unshare never made its mount namespace")
	return pid
}
