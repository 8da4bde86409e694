// This file tracks an attempt's create calls under way, so that the attempt reacts to
// the first one back and never ends while one still runs.

package worker

import "context"

// creates is the set of create calls an attempt has under way.
type creates struct {
	n    int
	done chan error
}

func newCreates() *creates { return &creates{done: make(chan error, 128)} }

// start runs fn in its own goroutine.
func (c *creates) start(fn func() error) {
	c.n++
	go func() { c.done <- fn() }()
}

// next waits for one create call to come back and returns its error.
func (c *creates) next(ctx context.Context) error {
	select {
	case err := <-c.done:
		c.n--
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait waits for every create call still under way; their errors are already in the
// ledger (an abandoned intent) or will be found by the next attempt.
func (c *creates) wait() {
	for ; c.n > 0; c.n-- {
		<-c.done
	}
}
