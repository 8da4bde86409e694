// This file is when a prediction in flight is checked with a GET: with webhooks, once it
// is clearly late for the model's recent pace (its webhook was probably lost); without
// them, every REPLICATE_POLL_INTERVAL.

package worker

import (
	"context"
	"sync"
	"time"
)

// The late-webhook policy: a prediction not heard of for lateFactor times the recent
// p95 of the model's predictions is checked, but never before lateFloor nor later than
// REPLICATE_WEBHOOK_CHECK_AFTER. The p95 is read from the last paceSample predictions
// that ended, fleet-wide, at most once per paceRefresh by each process (paceRefreshEarly
// while fewer than paceMinSeen have ended: a new deployment learns its model's pace in
// its first seconds). Until then the ceiling holds.
const (
	lateFactor       = 3
	lateFloor        = 3 * time.Second
	paceSample       = 200
	paceMinSeen      = 5
	paceRefresh      = 10 * time.Second
	paceRefreshEarly = time.Second
)

// pace is what the process knows of the model's recent pace.
type pace struct {
	mu     sync.Mutex
	p95    time.Duration // zero until paceMinSeen predictions have ended
	readAt time.Time
}

// checkAfter is how long a prediction in flight may go unheard of before a GET.
func (w *GenerateWorker) checkAfter(ctx context.Context) time.Duration {
	if !w.cfg.Webhooks {
		return w.cfg.PollInterval
	}
	return lateAfter(w.modelP95(ctx), w.cfg.CheckAfter)
}

// lateAfter is the late-webhook policy for a model whose recent p95 is p95 (zero:
// unknown), under the ceiling.
func lateAfter(p95, ceiling time.Duration) time.Duration {
	if p95 <= 0 {
		return ceiling
	}
	return min(ceiling, max(lateFloor, lateFactor*p95))
}

// modelP95 returns the model's recent p95, read again when it is stale. A failed read
// keeps what was known: the ceiling still bounds every check.
func (w *GenerateWorker) modelP95(ctx context.Context) time.Duration {
	p := &w.pace
	p.mu.Lock()
	defer p.mu.Unlock()
	refresh := paceRefresh
	if p.p95 == 0 {
		refresh = paceRefreshEarly
	}
	if time.Since(p.readAt) < refresh {
		return p.p95
	}
	p.readAt = time.Now()
	p95, seen, err := w.store.ModelPace(ctx, paceSample)
	if err == nil && seen >= paceMinSeen {
		p.p95 = p95
	}
	return p.p95
}
