// This file quiets River's routine log lines: the logger handed to River (the worker's
// client, the migrator, River UI) logs them at DEBUG instead of INFO, so that an
// operator's INFO log says each thing once.

package main

import (
	"context"
	"log/slog"
	"strings"
)

// riverRoutine ends each River message that is routine at INFO: the migrator's own lines
// (migrations.Up logs what it applied, by name) and the producer's job counts, logged
// every 5 s while jobs run.
var riverRoutine = []string{": Applied migration", ": No migrations to apply", ": Producer job counts"}

// quietRiver is a slog.Handler that lowers River's routine messages to DEBUG and passes
// everything else through unchanged.
type quietRiver struct{ slog.Handler }

// riverLogger returns logger with River's routine messages lowered to DEBUG.
func riverLogger(logger *slog.Logger) *slog.Logger {
	return slog.New(quietRiver{logger.Handler()})
}

// Handle implements slog.Handler.
func (q quietRiver) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo && routine(r.Message) {
		if !q.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return q.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (q quietRiver) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietRiver{q.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (q quietRiver) WithGroup(name string) slog.Handler {
	return quietRiver{q.Handler.WithGroup(name)}
}

func routine(msg string) bool {
	for _, suffix := range riverRoutine {
		if strings.HasSuffix(msg, suffix) {
			return true
		}
	}
	return false
}
