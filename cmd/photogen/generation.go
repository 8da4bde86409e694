// This file is `photogen generation`: list generations by state (failed, stuck, ...),
// and show, retry or cancel one. Each takes --json for scripts.

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"photogen/generation"
	"photogen/operator"
)

func generationCmd(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generation",
		Short: "List, inspect, retry or cancel subscribers' generations",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return usageError(cmd.Help()) },
	}
	asJSON := cmd.PersistentFlags().Bool("json", false, "write JSON for scripts instead of text")
	sub := func(use, short string, act func(context.Context, *operator.Operator, *generation.Subscriber, io.Writer) error) *cobra.Command {
		return &cobra.Command{
			Use:   use + " <subscriber-id or email>",
			Short: short,
			Args:  exactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withOperator(cmd.Context(), e, func(ctx context.Context, op *operator.Operator, logger *slog.Logger) error {
					s, err := op.Lookup(ctx, args[0])
					if err != nil {
						return err
					}
					if err := act(ctx, op, s, e.stdout); err != nil {
						return err
					}
					if use != "show" {
						logger.InfoContext(ctx, "generation "+use+" by an operator", "subscriber_id", s.ID)
					}
					return op.Show(ctx, s.ID, e.stdout, format(*asJSON))
				})
			},
		}
	}
	cmd.AddCommand(
		generationListCmd(e, asJSON),
		sub("show", "Show a generation: status, photos, predictions and jobs",
			func(context.Context, *operator.Operator, *generation.Subscriber, io.Writer) error { return nil }),
		sub("retry", "Queue a failed generation again (it continues from the ledger)",
			func(ctx context.Context, op *operator.Operator, s *generation.Subscriber, _ io.Writer) error {
				return op.Retry(ctx, s.ID)
			}),
		sub("cancel", "Stop a generation; its predictions in flight are cancelled at the provider",
			func(ctx context.Context, op *operator.Operator, s *generation.Subscriber, _ io.Writer) error {
				return op.Cancel(ctx, s)
			}),
	)
	return cmd
}

func generationListCmd(e env, asJSON *bool) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list [--state failed|queued|generating|completed|refunded|awaiting_payment] [--older 10m]",
		Short: "List generations by state, the longest untouched first (stuck: --state generating --older 10m)",
		Args:  exactArgs(0),
	}
	states := cmd.Flags().StringSlice("state", nil, "only these states (comma-separated, or the flag repeated); default every state")
	older := cmd.Flags().Duration("older", 0, "only generations not updated (no state change, no photo appended) for this long")
	limit := cmd.Flags().Int("limit", defaultListLimit, "write at most this many")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q := operator.GenerationQuery{OlderThan: *older, Limit: *limit}
		for _, s := range *states {
			st, err := operator.ParseStatus(s)
			if err != nil {
				return usageError(fmt.Errorf("--state: %w", err))
			}
			q.Statuses = append(q.Statuses, st)
		}
		if err := checkListFlags(*older, *limit); err != nil {
			return err
		}
		return withOperator(cmd.Context(), e, func(ctx context.Context, op *operator.Operator, _ *slog.Logger) error {
			return op.ListGenerations(ctx, q, e.stdout, format(*asJSON))
		})
	}
	return cmd
}
