// This file tracks an attempt's tasks under way (keeping a photo, creating a
// prediction), so that the attempt reacts to the first one back and never ends while
// one still runs.

package worker

import (
	"math/rand/v2"
	"slices"
	"sync"

	"photogen/store"
)

// tasks is the set of tasks an attempt has under way, and what they own: the finished
// predictions being kept, and the seeds of the intents being created. An intent still
// creating that no task owns was left by a call that failed, or by a dead attempt, and
// is reconciled. A task owns a seed before its intent is written, so the attempt never
// mistakes a task's fresh intent for an orphan.
type tasks struct {
	n    int
	done chan taskDone

	mu    sync.Mutex
	owned map[int64]bool  // seeds
	kept  map[string]bool // provider ids being kept, or kept, in this attempt
}

func newTasks() *tasks {
	return &tasks{done: make(chan taskDone, 256), owned: map[int64]bool{}, kept: map[string]bool{}}
}

// taskDone is a task back: its error, the changes it made to the ledger (applied to the
// attempt's copy in order), the seeds it owned, given back once they are applied, and the
// intents whose creates the attempt starts (a kept batch's replacements), whose seeds
// pass to those creates.
type taskDone struct {
	err     error
	changes []ledgerChange
	seeds   []int64
	creates []store.Intent
}

// taskKey is what a task owns from its start: a seed, or finished predictions to keep.
type taskKey struct {
	seed int64
	keep []string
}

// startCreate runs fn, a create task owning seed (already owned, see own).
func (c *tasks) startCreate(seed int64, fn func(o owner) error) {
	c.run(taskKey{seed: seed}, func(t *taskOwner) error { return fn(t) })
}

// startKeep runs fn, a task keeping the finished predictions providerIDs.
func (c *tasks) startKeep(providerIDs []string, fn func(t *taskOwner) error) {
	c.run(taskKey{keep: providerIDs}, fn)
}

// run runs fn in its own goroutine, owning k (and the seeds fn owns) until fn returns.
func (c *tasks) run(k taskKey, fn func(t *taskOwner) error) {
	c.n++
	c.mu.Lock()
	for _, id := range k.keep {
		c.kept[id] = true
	}
	c.mu.Unlock()
	go func() {
		t := &taskOwner{tasks: c}
		if k.seed != 0 {
			t.mine = append(t.mine, k.seed)
		}
		err := fn(t)
		// The seeds stay owned until the attempt has applied the task's changes (back):
		// until then its copy of the ledger may still hold their intents as creating.
		// A kept prediction stays marked for the rest of the attempt: a look that read
		// the ledger before this keep committed would otherwise keep it again. (A keep
		// that failed ends the attempt.)
		c.done <- taskDone{err: err, changes: t.changes, seeds: t.mine, creates: t.creates}
	}()
}

// back takes a task back: its changes are applied to a's copy of the ledger, then its
// seeds are given back, but those of the intents it hands over (d.creates), which the
// caller starts creates for. It returns the task's error.
func (c *tasks) back(a *attemptState, d taskDone) error {
	c.n--
	for _, change := range d.changes {
		a.apply(change)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, seed := range d.seeds {
		if !slices.ContainsFunc(d.creates, func(in store.Intent) bool { return in.Seed == seed }) {
			delete(c.owned, seed)
		}
	}
	return d.err
}

// keeping reports whether a task of this attempt keeps, or kept, the finished
// prediction providerID.
func (c *tasks) keeping(providerID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kept[providerID]
}

// taskOwner is one task's owner: what it owns is given back when the task is back, and
// the changes it notes are applied then.
type taskOwner struct {
	tasks   *tasks
	mine    []int64        // used by the task's goroutine only
	changes []ledgerChange // likewise
	creates []store.Intent // likewise: intents whose creates the attempt starts
}

func (t *taskOwner) own(seed int64) { t.tasks.own(seed); t.mine = append(t.mine, seed) }

func (t *taskOwner) disown(seed int64) { t.tasks.disown(seed) }

func (t *taskOwner) note(c ledgerChange) { t.changes = append(t.changes, c) }

// attemptOwner is the attempt's own owner, for what it does itself: its changes apply at
// once.
type attemptOwner struct{ a *attemptState }

func (o attemptOwner) own(seed int64) { o.a.tasks.own(seed) }

func (o attemptOwner) disown(seed int64) { o.a.tasks.disown(seed) }

func (o attemptOwner) note(c ledgerChange) { o.a.apply(c) }

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

// wait waits for every create call still under way; their errors are already in the
// ledger (an abandoned intent) or will be found by the next attempt.
func (c *tasks) wait() {
	for ; c.n > 0; c.n-- {
		<-c.done
	}
}
