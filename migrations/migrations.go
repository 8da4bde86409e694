// Package migrations holds photogen's schema as numbered SQL files and applies it,
// together with River's own tables, under one advisory lock so that any number of
// `photogen migrate` processes can run at once.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed *.sql
var files embed.FS

// lockKey is the session advisory lock taken for the whole of Up and Down: River's
// migrator takes no lock of its own, and two concurrent runs would otherwise collide.
const lockKey int64 = 0x70686f746f67656e // "photogen"

// ErrPending is returned by Check while some migration has not been applied.
var ErrPending = errors.New("migrations pending")

// Up applies every River migration and then every photogen migration not yet applied.
// It is idempotent and safe to run concurrently: callers queue on an advisory lock.
func Up(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return withLock(ctx, pool, func() error {
		m, err := riverMigrator(pool, logger)
		if err != nil {
			return err
		}
		res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		for _, v := range res.Versions {
			logger.InfoContext(ctx, "applied river migration", "version", v.Version, "name", v.Name)
		}
		p, err := provider(pool)
		if err != nil {
			return err
		}
		results, err := p.Up(ctx)
		if err != nil {
			return fmt.Errorf("photogen migrations: %w", err)
		}
		for _, r := range results {
			logger.InfoContext(ctx, "applied migration", "version", r.Source.Version, "file", r.Source.Path)
		}
		return nil
	})
}

// Down reverts every photogen migration and then River's tables. It destroys all data
// and exists for tests of the migrations themselves and for tearing down a dev database.
func Down(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return withLock(ctx, pool, func() error {
		p, err := provider(pool)
		if err != nil {
			return err
		}
		if _, err := p.DownTo(ctx, 0); err != nil {
			return fmt.Errorf("photogen migrations down: %w", err)
		}
		m, err := riverMigrator(pool, logger)
		if err != nil {
			return err
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
			return fmt.Errorf("river migrations down: %w", err)
		}
		return nil
	})
}

// Check returns nil when every River and photogen migration has been applied, ErrPending
// (wrapped) when some are missing, and another error when the database cannot be asked.
func Check(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := riverMigrator(pool, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("validate river migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("%w: river: %v", ErrPending, res.Messages)
	}
	p, err := provider(pool)
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check photogen migrations: %w", err)
	}
	if pending {
		return fmt.Errorf("%w: photogen", ErrPending)
	}
	return nil
}

func riverMigrator(pool *pgxpool.Pool, logger *slog.Logger) (*rivermigrate.Migrator[pgx.Tx], error) {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("river migrator: %w", err)
	}
	return m, nil
}

// provider builds goose over the embedded files; its own logging is off because Up logs
// what it applied through the caller's logger.
func provider(pool *pgxpool.Pool) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), files,
		goose.WithDisableGlobalRegistry(true), goose.WithSlog(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

func withLock(ctx context.Context, pool *pgxpool.Pool, fn func() error) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection for migration lock: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the unlock must happen even when ctx was cancelled, or the
		// pooled connection would keep the lock.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey); uerr != nil {
			conn.Conn().Close(context.Background()) //nolint:errcheck // closing releases the lock
			err = errors.Join(err, fmt.Errorf("release migration lock: %w", uerr))
		}
	}()
	return fn()
}
