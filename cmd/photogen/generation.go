package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"photogen/store"
	"photogen/worker"
)

// runGeneration is `photogen generation show|retry|cancel <subscriber-id or email>`.
func runGeneration(ctx context.Context, args []string, cfg config, stdout io.Writer, logger *slog.Logger) error {
	if len(args) != 2 {
		return fmt.Errorf("%w: photogen generation show|retry|cancel <subscriber-id or email>", errUsage)
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	sub, err := findSubscriber(ctx, st, args[1])
	if err != nil {
		return err
	}
	switch args[0] {
	case "show":
	case "retry":
		rc, err := worker.InsertOnlyClient(pool)
		if err != nil {
			return err
		}
		err = st.WithTx(ctx, func(tx *store.Store, raw pgx.Tx) error {
			sub, err = worker.RequestTx(ctx, tx, raw, rc, sub.ID)
			return err
		})
		if err != nil {
			return err
		}
		if sub.Status != store.StatusQueued && sub.Status != store.StatusGenerating {
			return fmt.Errorf("nothing to retry: the generation is %s", sub.Status)
		}
		logger.InfoContext(ctx, "generation re-enqueued by an operator", "subscriber_id", sub.ID)
	case "cancel":
		rc, err := worker.InsertOnlyClient(pool)
		if err != nil {
			return err
		}
		err = st.WithTx(ctx, func(tx *store.Store, raw pgx.Tx) error {
			stopped, err := tx.FailGeneration(ctx, sub.ID, "cancelled by an operator")
			if err != nil {
				return err
			}
			if !stopped {
				return fmt.Errorf("nothing to cancel: the generation is %s", sub.Status)
			}
			return worker.EnqueueCancelTx(ctx, rc, raw, sub.ID)
		})
		if err != nil {
			return err
		}
		logger.InfoContext(ctx, "generation cancelled by an operator", "subscriber_id", sub.ID)
	default:
		return fmt.Errorf("%w: photogen generation show|retry|cancel <subscriber-id or email>", errUsage)
	}
	return showGeneration(ctx, st, sub.ID, stdout)
}

func findSubscriber(ctx context.Context, st *store.Store, ref string) (*store.Subscriber, error) {
	var sub *store.Subscriber
	var err error
	if id, perr := uuid.Parse(ref); perr == nil {
		sub, err = st.SubscriberByID(ctx, id)
	} else {
		sub, err = st.SubscriberByEmail(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no subscriber %q", ref)
	}
	return sub, err
}

func showGeneration(ctx context.Context, st *store.Store, id uuid.UUID, w io.Writer) error {
	sub, err := st.SubscriberByID(ctx, id)
	if err != nil {
		return err
	}
	ledger, err := st.LedgerFor(ctx, id)
	if err != nil {
		return err
	}
	jobs, err := st.JobsFor(ctx, id)
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

// runQueue is `photogen queue stats`.
func runQueue(ctx context.Context, args []string, cfg config, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "stats" {
		return fmt.Errorf("%w: photogen queue stats", errUsage)
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	q, err := store.New(pool).Queue(ctx)
	if err != nil {
		return err
	}
	states := make([]string, 0, len(q.ByState))
	for s := range q.ByState {
		states = append(states, s)
	}
	sort.Strings(states)
	for _, s := range states {
		fmt.Fprintf(stdout, "%-10s %d\n", s, q.ByState[s])
	}
	oldest := "none"
	if q.OldestAvailable != nil {
		oldest = q.OldestAvailable.Round(time.Millisecond).String()
	}
	fmt.Fprintf(stdout, "oldest available job: %s\n", oldest)
	return nil
}
