// Package operator is what the operator CLI does: find a subscriber by id or email,
// show and list generations, retry or cancel them through the generation use-cases, read
// the queue, list and replay Stripe events. It writes aligned text for people or JSON
// for scripts (Format); cmd/photogen only parses arguments.
package operator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"photogen/generation"
	"photogen/store"
)

// Operator runs operator tasks on one database.
type Operator struct {
	store *store.Store
	jobs  generation.Inserter
}

// New returns an Operator on s that inserts jobs with jobs.
func New(s *store.Store, jobs generation.Inserter) *Operator { return &Operator{store: s, jobs: jobs} }

// Lookup finds a subscriber by id or, failing that form, by email.
func (o *Operator) Lookup(ctx context.Context, ref string) (*generation.Subscriber, error) {
	var sub *generation.Subscriber
	var err error
	if id, perr := uuid.Parse(ref); perr == nil {
		sub, err = o.store.SubscriberByID(ctx, id)
	} else {
		sub, err = o.store.SubscriberByEmail(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no subscriber %q", ref)
	}
	return sub, err
}

// Retry queues a failed generation again (it continues from the ledger), or re-inserts
// a lost job of a queued or generating one. Other states are an error that says why.
func (o *Operator) Retry(ctx context.Context, id uuid.UUID) error {
	var sub *generation.Subscriber
	err := o.store.WithTx(ctx, func(tx *store.Store) error {
		var err error
		sub, err = generation.Request(ctx, tx, o.jobs, id)
		return err
	})
	if err != nil {
		return err
	}
	if !sub.Status.Owed() {
		return fmt.Errorf("nothing to retry: the generation is %s", sub.Status)
	}
	return nil
}

// Cancel fails a queued or generating generation ("cancelled by an operator") and has
// its in-flight predictions cancelled at the provider.
func (o *Operator) Cancel(ctx context.Context, sub *generation.Subscriber) error {
	err := o.store.WithTx(ctx, func(tx *store.Store) error {
		return generation.Cancel(ctx, tx, o.jobs, sub.ID, "cancelled by an operator")
	})
	if errors.Is(err, generation.ErrNothingToCancel) {
		return fmt.Errorf("nothing to cancel: the generation is %s", sub.Status)
	}
	return err
}

// generationView is a generation as `generation show --json` writes it.
type generationView struct {
	SubscriberID uuid.UUID  `json:"subscriber_id"`
	Email        string     `json:"email"`
	Status       string     `json:"status"`
	Photos       int        `json:"photos"`
	TargetPhotos int        `json:"target_photos"`
	PhotoURLs    []string   `json:"photo_urls"`
	Error        *string    `json:"error"`
	PaidAt       *time.Time `json:"paid_at"`
	GeneratedAt  *time.Time `json:"generated_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	Predictions  struct {
		Created  int `json:"created"`
		Failed   int `json:"failed"`
		InFlight int `json:"in_flight"`
	} `json:"predictions"`
	Jobs []jobView `json:"jobs"`
}

type jobView struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	State       string     `json:"state"`
	Attempt     int        `json:"attempt"`
	Errors      int        `json:"errors"`
	CreatedAt   time.Time  `json:"created_at"`
	FinalizedAt *time.Time `json:"finalized_at"`
}

// Show writes the subscriber's generation, ledger and jobs to w in format f.
func (o *Operator) Show(ctx context.Context, id uuid.UUID, w io.Writer, f Format) error {
	sub, err := o.store.SubscriberByID(ctx, id)
	if err != nil {
		return err
	}
	ledger, err := o.store.LedgerFor(ctx, id)
	if err != nil {
		return err
	}
	jobs, err := o.store.JobsFor(ctx, id)
	if err != nil {
		return err
	}
	v := generationView{SubscriberID: sub.ID, Email: sub.Email, Status: string(sub.Status), Photos: len(sub.PhotoURLs),
		TargetPhotos: sub.TargetPhotos, PhotoURLs: sub.PhotoURLs, Error: sub.Error, PaidAt: utc(sub.PaidAt),
		GeneratedAt: utc(sub.GeneratedAt), UpdatedAt: sub.UpdatedAt.UTC(), Jobs: []jobView{}}
	if v.PhotoURLs == nil {
		v.PhotoURLs = []string{}
	}
	v.Predictions.Created, v.Predictions.Failed, v.Predictions.InFlight = ledger.Created, ledger.Failed, len(ledger.InFlight)
	for _, j := range jobs {
		v.Jobs = append(v.Jobs, jobView{ID: j.ID, Kind: j.Kind, State: j.State, Attempt: j.Attempt, Errors: j.Errors,
			CreatedAt: j.Created.UTC(), FinalizedAt: utc(j.Finished)})
	}
	return f.write(w, v, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "subscriber  %s (%s)\nstatus      %s\nphotos      %d/%d\n", v.SubscriberID, v.Email, v.Status, v.Photos, v.TargetPhotos)
		if v.Error != nil {
			fmt.Fprintf(w, "error       %s\n", *v.Error)
		}
		fmt.Fprintf(w, "predictions %d created, %d failed, %d in flight\n", v.Predictions.Created, v.Predictions.Failed, v.Predictions.InFlight)
		for _, j := range v.Jobs {
			fmt.Fprintf(w, "job         %d %s %s attempt %d, %d errors, created %s\n", j.ID, j.Kind, j.State, j.Attempt, j.Errors, stamp(j.CreatedAt))
		}
	})
}
