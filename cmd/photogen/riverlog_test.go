package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/migrations"
)

func TestRiverRoutineLinesAreDebug(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := riverLogger(slog.New(slog.NewJSONHandler(&buf, nil))).With("client", "x")
	logger.Info("producer: Producer job counts", "num_jobs_running", 1)
	logger.Info("rivermigrate.Migrator[v5.Tx]: Applied migration", "version", 1)
	logger.Info("River client started")
	logger.Warn("producer: Producer job counts")
	out := buf.String()
	require.NotContains(t, out, "Applied migration")
	require.Equal(t, 1, strings.Count(out, "Producer job counts"), "only the WARN one")
	require.Contains(t, out, "River client started")
	require.Contains(t, out, `"client":"x"`)

	buf.Reset()
	debug := riverLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	debug.Info("producer: Producer job counts")
	require.Contains(t, buf.String(), `"level":"DEBUG"`)
}

// TestMigrateLogsEachMigrationOnce runs the real migrations on an empty database through
// the logger `photogen migrate` uses: at INFO each River migration is one line.
func TestMigrateLogsEachMigrationOnce(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	require.NoError(t, migrations.Down(ctx, db.Pool, slog.New(slog.DiscardHandler)))
	var buf bytes.Buffer
	require.NoError(t, migrations.Up(ctx, db.Pool, riverLogger(slog.New(slog.NewJSONHandler(&buf, nil)))))
	out := buf.String()
	require.NotContains(t, out, "Applied migration", "River's own line is DEBUG")
	require.Contains(t, out, `"msg":"applied river migration","version":1,`)
	require.Equal(t, 1, strings.Count(out, `"msg":"applied river migration","version":1,`))
	require.Contains(t, out, `"msg":"applied migration","version":1,`)
}
