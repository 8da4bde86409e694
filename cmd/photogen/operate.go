// This file holds stripe-events list|replay (payments that matched no subscriber) and
// what the list commands share: --json, --limit and --older.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"photogen/operator"
	"photogen/store"
)

// defaultListLimit is how many rows a list command writes unless --limit says otherwise.
const defaultListLimit = 100

func format(asJSON bool) operator.Format {
	if asJSON {
		return operator.JSON
	}
	return operator.Text
}

func checkListFlags(older time.Duration, limit int) error {
	if older < 0 {
		return usageError(errors.New("--older must not be negative"))
	}
	if limit < 1 {
		return usageError(errors.New("--limit must be at least 1"))
	}
	return nil
}

func stripeEventsCmd(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stripe-events",
		Short: "List the Stripe events in the webhook inbox, and replay one that matched no subscriber",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return usageError(cmd.Help()) },
	}
	asJSON := cmd.PersistentFlags().Bool("json", false, "write JSON for scripts instead of text")

	list := &cobra.Command{
		Use:   "list [--outcome unmatched|applied|refunded|ignored]",
		Short: "List the inbox's events, oldest first, with the email and reference each names",
		Args:  exactArgs(0),
	}
	outcome := list.Flags().String("outcome", "", "only events with this outcome; default every outcome")
	limit := list.Flags().Int("limit", defaultListLimit, "write at most this many")
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		var o store.EventOutcome
		if *outcome != "" {
			var err error
			if o, err = operator.ParseOutcome(*outcome); err != nil {
				return usageError(fmt.Errorf("--outcome: %w", err))
			}
		}
		if err := checkListFlags(0, *limit); err != nil {
			return err
		}
		return withOperator(cmd.Context(), e, func(ctx context.Context, op *operator.Operator, _ *slog.Logger) error {
			return op.ListStripeEvents(ctx, o, *limit, e.stdout, format(*asJSON))
		})
	}

	replay := &cobra.Command{
		Use:   "replay <event id>",
		Short: "Apply a stored unmatched event again, now that its subscriber exists (idempotent)",
		Long: `Apply a stored event that matched no subscriber again, through the same matching and
effects as a webhook delivery: a payment marks the subscriber paid and enqueues their
generation, a refund stops it, in one transaction with the inbox row (now applied or
refunded). An event that is not unmatched is left as it is, so replaying twice changes
nothing. Exits 1 when the event is unknown or still matches no subscriber.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withOperator(cmd.Context(), e, func(ctx context.Context, op *operator.Operator, logger *slog.Logger) error {
				res, err := op.ReplayStripeEvent(ctx, args[0], e.stdout, format(*asJSON))
				if err == nil && res.Changed {
					logger.InfoContext(ctx, "stripe event replayed by an operator", "event_id", res.EventID,
						"outcome", res.Outcome, "subscriber_id", res.SubscriberID)
				}
				return err
			})
		},
	}
	cmd.AddCommand(list, replay)
	return cmd
}
