package worker

// Tests of how long an attempt lingers for a webhook before it sleeps, and of when a
// prediction is late enough for a check.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/store"
)

func TestLingerUntil(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	reserved := func(ago ...time.Duration) store.Ledger {
		var l store.Ledger
		for _, d := range ago {
			l.InFlight = append(l.InFlight, store.InFlight{CreatedAt: now.Add(-d)})
		}
		return l
	}
	for _, tc := range []struct {
		name   string
		ledger store.Ledger
		took   time.Duration
		want   time.Duration
	}{
		{"nothing kept yet: the least linger", reserved(100 * time.Millisecond), 0, lingerFor},
		{"a sibling ends in 5 ms: until it has had 0.3 s", reserved(500*time.Millisecond, 495*time.Millisecond), 500 * time.Millisecond, 305 * time.Millisecond},
		{"the next ends in 0.4 s: until it has had 0.3 s", reserved(100*time.Millisecond, 50*time.Millisecond), 500 * time.Millisecond, 700 * time.Millisecond},
		{"the earliest of several counts", reserved(time.Second, 200*time.Millisecond), 1500 * time.Millisecond, 800 * time.Millisecond},
		{"an 8 s model's next in 5 s: no waiting for it", reserved(3 * time.Second), 8 * time.Second, lingerFor},
		{"expected within 2 s only with its 0.3 s", reserved(100 * time.Millisecond), 1900 * time.Millisecond, lingerFor},
		{"overdue predictions are not waited for", reserved(10 * time.Second), 500 * time.Millisecond, lingerFor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, lingerUntil(now, tc.ledger, tc.took).Sub(now))
		})
	}
}

func TestLateAfter(t *testing.T) {
	t.Parallel()
	ceiling := 30 * time.Second
	for _, tc := range []struct {
		name string
		p95  time.Duration
		want time.Duration
	}{
		{"pace unknown: the ceiling", 0, ceiling},
		{"a 0.5 s model: the floor", 500 * time.Millisecond, lateFloor},
		{"a 2 s model: three times its p95", 2 * time.Second, 6 * time.Second},
		{"a 20 s model: the ceiling", 20 * time.Second, ceiling},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, lateAfter(tc.p95, ceiling))
		})
	}
}
