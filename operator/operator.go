// Package operator is what the operator CLI does: find a subscriber by id or email,
// show their generation, retry or cancel it through the generation use-cases, and read
// the queue. It writes plain text for people; cmd/photogen only parses arguments.
package operator

import (
	"context"
	"errors"
	"fmt"
	"io"

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

// Show writes the subscriber's generation, ledger and jobs to w.
func (o *Operator) Show(ctx context.Context, id uuid.UUID, w io.Writer) error {
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
	fmt.Fprintf(w, "subscriber  %s (%s)\nstatus      %s\nphotos      %d/%d\n", sub.ID, sub.Email, sub.Status, len(sub.PhotoURLs), sub.TargetPhotos)
	if sub.Error != nil {
		fmt.Fprintf(w, "error       %s\n", *sub.Error)
	}
	fmt.Fprintf(w, "predictions %d created, %d failed, %d in flight\n", ledger.Created, ledger.Failed, len(ledger.InFlight))
	for _, j := range jobs {
		fmt.Fprintf(w, "job         %d %s %s attempt %d, %d errors, created %s\n", j.ID, j.Kind, j.State, j.Attempt, j.Errors, j.Created.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return nil
}
