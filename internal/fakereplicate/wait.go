package fakereplicate

// This file holds sync mode: a create with "Prefer: wait" or "Prefer: wait=N" holds its
// answer until the prediction is final or N seconds (60 by default) have passed.

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// maxWait is the longest wait Prefer: wait may ask for, and what a bare "wait" means.
const maxWait = 60 * time.Second

var errBadWait = errors.New("the wait preference must be wait or wait=N with N from 1 to 60")

// parseWait reads the wait preference of a Prefer header: zero when there is none, 60 s
// for a bare "wait", N s for "wait=N". Other preferences are ignored; a wait outside 1 to
// 60 or not a whole number is an error.
func parseWait(prefer string) (time.Duration, error) {
	for pref := range strings.SplitSeq(prefer, ",") {
		pref, _, _ = strings.Cut(pref, ";") // preference parameters mean nothing here
		name, value, hasValue := strings.Cut(strings.TrimSpace(pref), "=")
		if !strings.EqualFold(strings.TrimSpace(name), "wait") {
			continue
		}
		if !hasValue {
			return maxWait, nil
		}
		n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(value), `"`))
		if err != nil || n < 1 || n > int(maxWait/time.Second) {
			return 0, errBadWait
		}
		return time.Duration(n) * time.Second, nil
	}
	return 0, nil
}

// await waits until p is final, d has passed, ctx ends (the client has gone) or the fake
// is closed, whichever comes first, and returns p's JSON at that moment.
func (s *Server) await(ctx context.Context, p *prediction, d time.Duration) map[string]any {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	case <-ctx.Done():
	case <-s.stopCtx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return p.render()
}
