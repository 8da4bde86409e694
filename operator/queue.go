// This file shows the River queue at a glance.

package operator

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"
)

// QueueStats writes the jobs by state and the age of the oldest available job to w.
func (o *Operator) QueueStats(ctx context.Context, w io.Writer) error {
	q, err := o.store.Queue(ctx)
	if err != nil {
		return err
	}
	states := make([]string, 0, len(q.ByState))
	for s := range q.ByState {
		states = append(states, s)
	}
	sort.Strings(states)
	for _, s := range states {
		fmt.Fprintf(w, "%-10s %d\n", s, q.ByState[s])
	}
	oldest := "none"
	if q.OldestAvailable != nil {
		oldest = q.OldestAvailable.Round(time.Millisecond).String()
	}
	fmt.Fprintf(w, "oldest available job: %s\n", oldest)
	return nil
}
