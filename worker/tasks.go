// This file tracks an attempt's tasks under way (keeping a photo, creating a
// prediction), so that the attempt reacts to the first one back and never ends while
// one still runs.

package worker

import (
	"context"
	"math/rand/v2"
	"sync"
)

// tasks is the set of tasks an attempt has under way, and what they own: the finished
// predictions being kept, and the seeds of the intents being created. An intent still
// creating that no task owns was left by a call that failed, or by a dead attempt, and
// is reconciled. A task owns a seed before its intent is written, so the attempt never
// mistakes a task's fresh intent for an orphan.
type tasks struct {
	n    int
	done chan error

	mu    sync.Mutex
	owned map[int64]bool  // seeds
	kept  map[string]bool // provider ids being kept, or kept, in this attempt
}

func newTasks() *tasks {
	return &tasks{done: make(chan error, 256), owned: map[int64]bool{}, kept: map[string]bool{}}
}

// taskKey is what a task owns from its start: a seed, or a finished prediction to keep.
type taskKey struct {
	seed int64
	keep string
}

// startCreate runs fn, a create task owning seed (already owned, see own).
func (c *tasks) startCreate(seed int64, fn func(o owner) error) {
	c.run(taskKey{seed: seed}, fn)
}

// startKeep runs fn, a task keeping the finished prediction providerID.
func (c *tasks) startKeep(providerID string, fn func(o owner) error) {
	c.run(taskKey{keep: providerID}, fn)
}

// run runs fn in its own goroutine, owning k (and the seeds fn owns) until fn returns.
func (c *tasks) run(k taskKey, fn func(o owner) error) {
	c.n++
	if k.keep != "" {
		c.mu.Lock()
		c.kept[k.keep] = true
		c.mu.Unlock()
	}
	go func() {
		t := &taskOwner{tasks: c}
		if k.seed != 0 {
			t.mine = append(t.mine, k.seed)
		}
		err := fn(t)
		c.mu.Lock()
		for _, seed := range t.mine {
			delete(c.owned, seed)
		}
		// A kept prediction stays marked for the rest of the attempt: a look that read
		// the ledger before this keep committed would otherwise keep it again. (A keep
		// that failed ends the attempt.)
		c.mu.Unlock()
		c.done <- err
	}()
}

// keeping reports whether a task of this attempt keeps, or kept, the finished
// prediction providerID.
func (c *tasks) keeping(providerID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kept[providerID]
}

// taskOwner is one task's owner: what it owns is given back when the task ends.
type taskOwner struct {
	tasks *tasks
	mine  []int64 // used by the task's goroutine only
}

func (t *taskOwner) own(seed int64) { t.tasks.own(seed); t.mine = append(t.mine, seed) }

func (t *taskOwner) disown(seed int64) { t.tasks.disown(seed) }

// own marks seed as being created by a task of this attempt.
func (c *tasks) own(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.owned[id] = true
}

// disown gives seed back: no intent was written with it.
func (c *tasks) disown(seed int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.owned, seed)
}

// owns reports whether a create call under way owns seed.
func (c *tasks) owns(seed int64) bool {
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
func (c *tasks) next(ctx context.Context) error {
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
func (c *tasks) wait() {
	for ; c.n > 0; c.n-- {
		<-c.done
	}
}
