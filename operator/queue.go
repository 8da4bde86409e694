// This file shows the River queue at a glance.

package operator

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"
)

// queueView is the queue as `queue stats --json` writes it.
type queueView struct {
	JobsByState map[string]int `json:"jobs_by_state"`
	// OldestAvailableSeconds is how long the oldest available job has waited; null when
	// none waits.
	OldestAvailableSeconds *float64 `json:"oldest_available_seconds"`
}

// QueueStats writes the jobs by state and the age of the oldest available job to w in
// format f.
func (o *Operator) QueueStats(ctx context.Context, w io.Writer, f Format) error {
	q, err := o.store.Queue(ctx)
	if err != nil {
		return err
	}
	v := queueView{JobsByState: q.ByState}
	if q.OldestAvailable != nil {
		s := q.OldestAvailable.Seconds()
		v.OldestAvailableSeconds = &s
	}
	return f.write(w, v, func(w *tabwriter.Writer) {
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
	})
}
