// This file tracks an attempt's create calls under way, so that the attempt reacts to
// the first one back and never ends while one still runs.

package worker

import (
	"context"
	"math/rand/v2"
	"sync"
)

// creates is the set of create calls an attempt has under way, and the seeds of the
// intents they own: an intent still creating that no call owns was left by a call that
// failed, or by a dead attempt, and is reconciled. A call owns a seed before its intent
// is written, so the attempt never mistakes a call's fresh intent for an orphan.
type creates struct {
	n    int
	done chan error

	mu    sync.Mutex
	owned map[int64]bool // by seed
}

func newCreates() *creates { return &creates{done: make(chan error, 128), owned: map[int64]bool{}} }

// start runs fn in its own goroutine, owning seed (and those fn owns) until fn returns.
func (c *creates) start(seed int64, fn func(own func(int64)) error) {
	c.n++
	go func() {
		mine := []int64{seed}
		err := fn(func(next int64) { c.own(next); mine = append(mine, next) })
		c.mu.Lock()
		for _, id := range mine {
			delete(c.owned, id)
		}
		c.mu.Unlock()
		c.done <- err
	}()
}

func (c *creates) own(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.owned[id] = true
}

func (c *creates) disown(seed int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.owned, seed)
}

// owns reports whether a create call under way owns seed.
func (c *creates) owns(seed int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owned[seed]
}

// newSeed is a random seed for a prediction's input: 1..2^31-1, what models accept.
func newSeed() int64 { return rand.Int64N(1<<31-1) + 1 }

func newSeeds(n int) []int64 {
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = newSeed()
	}
	return seeds
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
