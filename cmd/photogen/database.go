// This file opens photogen's connections to PostgreSQL: one pool per process, every
// session in it (and the LISTEN connections, which copy its configuration) with TCP
// keepalives on both ends, bounded statements, lock waits and idle transactions, and
// health checks, each unless DATABASE_URL sets it; and the clock of their last answer
// from PostgreSQL (reachedBy), for photogen_database_last_reached_timestamp_seconds.

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"photogen/metrics"
)

// sessionSetting is a PostgreSQL setting photogen sends at connect (a run-time parameter).
type sessionSetting struct{ name, value string }

// sessionSettings are sent on every session of photogen's, unless DATABASE_URL sets them.
var sessionSettings = []sessionSetting{
	// PostgreSQL's side of the keepalives: a backend whose client vanished (its host gone,
	// a NAT that forgot the flow) is ended within about a minute (30 s idle, then 3
	// probes 10 s apart), freeing its connection slot and its locks, instead of after the
	// kernel's 2 hours; tcp_user_timeout does the same for data it sent that is never
	// acknowledged (a frozen connection).
	{"tcp_keepalives_idle", "30"},
	{"tcp_keepalives_interval", "10"},
	{"tcp_keepalives_count", "3"},
	{"tcp_user_timeout", "60000"},
	// photogen's statements take milliseconds, and so do the waits for a row lock: a
	// statement that waits longer waits on a session that is stuck or gone (a vanished
	// host's, until PostgreSQL ends it), and it gives up after lock_timeout, freeing its
	// pooled connection for River's own work instead of starving it (the attempt snoozes
	// a second and tries again). The one long wait, a refund's or a cancel's for the
	// creations in flight, lifts lock_timeout for itself (store.stopCreations).
	{"statement_timeout", "120s"},
	{"lock_timeout", "10s"},
	// idle_in_transaction_session_timeout is set from the provider's HTTP timeout
	// (holdTransaction): the longest photogen holds a transaction open is around one create call.
}

// holdTransaction is how long photogen may hold a transaction open while it waits on
// something else: a create call under the creation lock, at most the provider's HTTP
// timeout (30 s by default; REPLICATE_SYNC_WAIT + 15 s when longer), plus a margin. A
// session idle in a transaction longer than that is stuck or its client gone, and
// PostgreSQL ends it (idle_in_transaction_session_timeout), freeing its locks even when
// the keepalives cannot tell (data in flight).
func holdTransaction(cfg config) time.Duration {
	return cfg.Replicate.WithDefaults().HTTPTimeout + 15*time.Second
}

// Photogen's side of the keepalives, the same rhythm: a connection whose server went
// silent fails within about a minute instead of hanging.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}

// Pool defaults that DATABASE_URL's pool_* parameters override.
const (
	healthCheckPeriod = 15 * time.Second // idle connections checked, dead ones replaced
	maxConnIdleTime   = 5 * time.Minute  // idle connections closed: a quiet process holds few
	pingAfterIdle     = 30 * time.Second // a connection idle longer is pinged before use
	connectTimeout    = 10 * time.Second // a connect that does not finish fails
)

// openPool connects to the database with cfg.MaxConns connections at most and the
// session settings above (statement_timeout off when long is set: migrations), the
// pool's configuration completed by each of configure (tracing's instrumentation).
func openPool(ctx context.Context, cfg config, long bool, configure ...func(*pgxpool.Config)) (*pgxpool.Pool, error) {
	pc, err := poolConfig(cfg.DatabaseURL, cfg.MaxConns, long, holdTransaction(cfg))
	if err != nil {
		return nil, err
	}
	for _, c := range configure {
		c(pc)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// poolConfig is the pool's configuration for databaseURL: photogen's defaults for
// whatever the URL does not set; idle in a transaction longer than hold, a session is ended.
func poolConfig(databaseURL string, maxConns int32, long bool, hold time.Duration) (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	set := urlParams(databaseURL)
	if !set["pool_max_conns"] {
		pc.MaxConns = maxConns
	}
	if !set["pool_health_check_period"] {
		pc.HealthCheckPeriod = healthCheckPeriod
	}
	if !set["pool_max_conn_idle_time"] {
		pc.MaxConnIdleTime = maxConnIdleTime
	}
	// A connection is pinged when it is taken from the pool after pingAfterIdle: pgx's
	// default, a second, pings (a transaction of the database's) most connections of a
	// worker waiting on a 1 s model. One that died meanwhile fails its first statement
	// instead, which every caller retries as a blink of the database (store.Unreachable).
	pc.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool { return p.IdleDuration > pingAfterIdle }
	cc := pc.ConnConfig
	if !set["connect_timeout"] {
		cc.ConnectTimeout = connectTimeout
	}
	d := &net.Dialer{KeepAliveConfig: keepAlive}
	cc.DialFunc = d.DialContext
	settings := append(slices.Clone(sessionSettings),
		sessionSetting{"idle_in_transaction_session_timeout", strconv.FormatInt(hold.Milliseconds(), 10)})
	for _, s := range settings {
		switch {
		case s.name == "statement_timeout" && long:
			s.value = "0"
		case s.name == "lock_timeout" && long:
			// A migration's DDL waits for the transactions under way on its table,
			// a create call's among them: as long as before this setting was cut.
			s.value = "90s"
		}
		if _, ok := cc.RuntimeParams[s.name]; !ok && !strings.Contains(cc.RuntimeParams["options"], s.name) {
			cc.RuntimeParams[s.name] = s.value
		}
	}
	return pc, nil
}

// urlParams is the set of parameters databaseURL names, in a URL's query or in a
// key=value connection string.
func urlParams(databaseURL string) map[string]bool {
	set := map[string]bool{}
	if u, err := url.Parse(databaseURL); err == nil && u.Scheme != "" {
		for k := range u.Query() {
			set[k] = true
		}
		return set
	}
	for _, kv := range strings.Fields(databaseURL) {
		if k, _, ok := strings.Cut(kv, "="); ok {
			set[k] = true
		}
	}
	return set
}

// reachedBy returns a configure func for openPool that moves clock at each statement
// PostgreSQL answers, on the pool's connections and on the LISTEN connections that copy
// its configuration: River's own polling keeps it within about a second of now while
// the database answers, with no query of its own. It keeps the tracer already set
// (tracing's) beside its own.
func reachedBy(clock *metrics.DatabaseClock) func(*pgxpool.Config) {
	return func(pc *pgxpool.Config) {
		var t pgx.QueryTracer = reachTracer{clock: clock}
		if prev := pc.ConnConfig.Tracer; prev != nil {
			t = multitracer.New(prev, t)
		}
		pc.ConnConfig.Tracer = t
	}
}

// reachTracer is the pgx.QueryTracer of reachedBy.
type reachTracer struct{ clock *metrics.DatabaseClock }

func (reachTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

// TraceQueryEnd moves the clock when the server answered: a result, or an error of the
// server's (PostgreSQL was reached); not a network error or a cancelled wait.
func (r reachTracer) TraceQueryEnd(_ context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	var pgErr *pgconn.PgError
	if data.Err == nil || errors.As(data.Err, &pgErr) {
		r.clock.Reached()
	}
}
