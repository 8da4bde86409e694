// This file lists generations by state, for finding the failed and the stuck.

package operator

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"photogen/generation"
	"photogen/store"
)

// statuses are the generation states, in the order a generation goes through them.
var statuses = []generation.Status{generation.StatusAwaitingPayment, generation.StatusQueued,
	generation.StatusGenerating, generation.StatusCompleted, generation.StatusFailed, generation.StatusRefunded}

// ParseStatus returns the generation state named s, or an error that lists the states.
func ParseStatus(s string) (generation.Status, error) { return parseName("state", s, statuses) }

// GenerationQuery selects generations for ListGenerations.
type GenerationQuery struct {
	Statuses  []generation.Status // any of these; none means every state
	OlderThan time.Duration       // when positive, only those not updated for this long (stuck)
	Limit     int                 // at most this many are written
}

type listedGeneration struct {
	SubscriberID uuid.UUID  `json:"subscriber_id"`
	Email        string     `json:"email"`
	Status       string     `json:"status"`
	Photos       int        `json:"photos"`
	TargetPhotos int        `json:"target_photos"`
	Error        *string    `json:"error"`
	PaidAt       *time.Time `json:"paid_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// ListGenerations writes the generations q selects, the longest untouched first, to w
// in format f. More marks a list cut at q.Limit.
func (o *Operator) ListGenerations(ctx context.Context, q GenerationQuery, w io.Writer, f Format) error {
	subs, err := o.store.ListGenerations(ctx, store.GenerationFilter{Statuses: q.Statuses, OlderThan: q.OlderThan, Limit: q.Limit + 1})
	if err != nil {
		return err
	}
	v := struct {
		Generations []listedGeneration `json:"generations"`
		More        bool               `json:"more"`
	}{Generations: []listedGeneration{}, More: len(subs) > q.Limit}
	for _, s := range subs[:min(len(subs), q.Limit)] {
		v.Generations = append(v.Generations, listedGeneration{SubscriberID: s.ID, Email: s.Email, Status: string(s.Status),
			Photos: len(s.PhotoURLs), TargetPhotos: s.TargetPhotos, Error: s.Error, PaidAt: utc(s.PaidAt), UpdatedAt: s.UpdatedAt.UTC()})
	}
	now := time.Now()
	return f.write(w, v, func(w *tabwriter.Writer) {
		if len(v.Generations) == 0 {
			fmt.Fprintln(w, "no generation matches")
			return
		}
		fmt.Fprintln(w, "SUBSCRIBER\tEMAIL\tSTATUS\tPHOTOS\tUPDATED\tERROR")
		for _, g := range v.Generations {
			reason := ""
			if g.Error != nil {
				reason = *g.Error
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%s (%s ago)\t%s\n", g.SubscriberID, g.Email, g.Status, g.Photos,
				g.TargetPhotos, stamp(g.UpdatedAt), age(now, g.UpdatedAt), reason)
		}
		if v.More {
			fmt.Fprintf(w, "(only the first %d: raise --limit for more)\n", q.Limit)
		}
	})
}
