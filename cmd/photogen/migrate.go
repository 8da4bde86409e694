package main

import (
	"context"
	"log/slog"

	"photogen/migrations"
)

// runMigrate applies all migrations; several at once queue on an advisory lock.
func runMigrate(ctx context.Context, cfg config, logger *slog.Logger) error {
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool, logger); err != nil {
		return err
	}
	logger.InfoContext(ctx, "migrations applied")
	return nil
}
