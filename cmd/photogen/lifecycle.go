// This file starts a serving process's components in order and stops them in the
// reverse order, so that in `all` mode the HTTP server keeps answering until the
// workers have handed their jobs back.

package main

import (
	"context"
	"fmt"
	"log/slog"
)

// component is one long-lived part of a process: start returns once it runs (a
// failure while running is sent on the group's channel), stop ends it within ctx.
type component struct {
	name  string
	start func(ctx context.Context, failed chan<- error) error
	stop  func(ctx context.Context) error
}

// group runs components: started in the order added, stopped in reverse.
type group struct {
	logger     *slog.Logger
	components []component
}

func (g *group) add(c component) { g.components = append(g.components, c) }

// run starts every component, waits until ctx ends or one fails, then stops those
// started, last first, each within stopCtx's deadline (a stop that fails is logged). It
// returns the failure that ended the run, if any.
func (g *group) run(ctx context.Context, stopCtx func() (context.Context, context.CancelFunc)) error {
	failed := make(chan error, len(g.components))
	started := 0
	var err error
	for _, c := range g.components {
		if err = c.start(ctx, failed); err != nil {
			err = fmt.Errorf("start %s: %w", c.name, err)
			break
		}
		started++
	}
	if err == nil {
		select {
		case <-ctx.Done():
			g.logger.Info("shutting down")
		case err = <-failed:
		}
	}
	for i := started - 1; i >= 0; i-- {
		c := g.components[i]
		sctx, cancel := stopCtx()
		if serr := c.stop(sctx); serr != nil {
			g.logger.Warn("stop "+c.name, "err", serr)
		}
		cancel()
	}
	return err
}
