// This file holds the commands that run once and exit: migrate and the operator
// commands (generation show|retry|cancel, queue stats; generation list and stripe-events
// are in operate.go).

package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"photogen/generation"
	"photogen/migrations"
	"photogen/operator"
	"photogen/store"
)

func migrateCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply River's and photogen's migrations (idempotent, safe to run concurrently)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDatabase(cmd.Context(), e, func(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
				if err := migrations.Up(ctx, pool, riverLogger(logger)); err != nil {
					return err
				}
				logger.InfoContext(ctx, "migrations applied")
				return nil
			})
		},
	}
}

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

func queueCmd(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "Read the job queue",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, _ []string) error { return usageError(cmd.Help()) },
	}
	stats := &cobra.Command{
		Use:   "stats",
		Short: "Jobs by state and the age of the oldest available job",
		Args:  exactArgs(0),
	}
	asJSON := stats.Flags().Bool("json", false, "write JSON for scripts instead of text")
	stats.RunE = func(cmd *cobra.Command, _ []string) error {
		return withOperator(cmd.Context(), e, func(ctx context.Context, op *operator.Operator, _ *slog.Logger) error {
			return op.QueueStats(ctx, e.stdout, format(*asJSON))
		})
	}
	cmd.AddCommand(stats)
	return cmd
}

// withDatabase loads the database settings, opens the pool and runs fn.
func withDatabase(ctx context.Context, e env, fn func(context.Context, *pgxpool.Pool, *slog.Logger) error) error {
	cfg, err := loadConfig(e.getenv, usesDatabase)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(ctx, pool, newLogger(cfg, e))
}

// withOperator runs fn with an Operator on the configured database.
func withOperator(ctx context.Context, e env, fn func(context.Context, *operator.Operator, *slog.Logger) error) error {
	return withDatabase(ctx, e, func(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
		jobs, err := generation.NewInserter(pool)
		if err != nil {
			return err
		}
		return fn(ctx, operator.New(store.New(pool), jobs), logger)
	})
}
