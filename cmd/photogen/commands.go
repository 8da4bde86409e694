// This file holds the commands that run once and exit: migrate, queue stats, and the
// helpers every operator command opens the database with (the generation commands are
// in generation.go, stripe-events in operate.go).

package main

import (
	"context"
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
			// Long: migrations may rewrite tables; no statement_timeout.
			return withDatabase(cmd.Context(), e, true, func(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
				if err := migrations.Up(ctx, pool, riverLogger(logger)); err != nil {
					return err
				}
				logger.InfoContext(ctx, "migrations applied")
				return nil
			})
		},
	}
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

// withDatabase loads the database settings, opens the pool and runs fn; long lifts the
// statement timeout (migrations).
func withDatabase(ctx context.Context, e env, long bool, fn func(context.Context, *pgxpool.Pool, *slog.Logger) error) error {
	cfg, err := loadConfig(e.getenv, usesDatabase)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, cfg, long)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(ctx, pool, newLogger(cfg, e))
}

// withOperator runs fn with an Operator on the configured database.
func withOperator(ctx context.Context, e env, fn func(context.Context, *operator.Operator, *slog.Logger) error) error {
	return withDatabase(ctx, e, false, func(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
		jobs, err := generation.NewInserter(pool)
		if err != nil {
			return err
		}
		return fn(ctx, operator.New(store.New(pool), jobs), logger)
	})
}
