// This file shares River's LISTEN connection with the wake-ups: a worker process holds
// one listening session, not two. PostgreSQL signals every session that listens on a
// database for every notification of that database, whatever its channel, and each reads
// the notification queue in a transaction of its own: a listening session costs a
// transaction per notification (a webhook's ring, a subscriber's notice, River's
// announcements), so one fewer per worker process matters to a fleet.

package worker

import (
	"context"
	"sync"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"photogen/generation"
	"photogen/store"
)

// wakeDriver is River's pgx driver whose listener also listens to store.WakeTopic and
// rings the worker's attempts with its news (wakeListener). Every other method is
// River's own.
type wakeDriver struct {
	*riverpgxv5.Driver
	gw *GenerateWorker
}

// GetListener returns River's listener, wrapped to carry the wake-ups too.
func (d wakeDriver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return &wakeListener{Listener: d.Driver.GetListener(params), gw: d.gw}
}

// wakeListener is River's listener that listens to store.WakeTopic as well, on the
// same connection: River's notifier connects it, reconnects it when it fails (and pings
// it), and waits on it; the wake-ups' notifications are taken out of what it receives
// and rung on the worker's bell. The bell listens while the connection does: when it is
// lost or comes back every attempt is asked to look at the ledger, and after a loss the
// hand-back runs (handback.go).
type wakeListener struct {
	riverdriver.Listener
	gw *GenerateWorker

	mu        sync.Mutex
	connected bool // once: a later connect is a reconnection
}

// Connect connects River's listener and listens to the wake-ups' topic.
func (l *wakeListener) Connect(ctx context.Context) error {
	if err := l.Listener.Connect(ctx); err != nil {
		l.gw.logger.WarnContext(ctx, "wake-ups: cannot listen; lingering attempts sleep instead", "err", err)
		return err
	}
	if err := l.Listener.Listen(ctx, store.WakeTopic); err != nil {
		l.gw.logger.WarnContext(ctx, "wake-ups: cannot listen; lingering attempts sleep instead", "err", err)
		_ = l.Listener.Close(ctx)
		return err
	}
	l.gw.bell.setListening(true)
	l.mu.Lock()
	again := l.connected
	l.connected = true
	l.mu.Unlock()
	if again {
		l.gw.attempts.signalReconnected()
	}
	return nil
}

// Close stops the bell listening and closes River's listener.
func (l *wakeListener) Close(ctx context.Context) error {
	l.gw.bell.setListening(false)
	return l.Listener.Close(ctx)
}

// WaitForNotification returns River's next notification; the wake-ups' are rung on the
// bell on the way.
func (l *wakeListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	for {
		n, err := l.Listener.WaitForNotification(ctx)
		if err != nil || n.Topic != store.WakeTopic {
			return n, err
		}
		news, err := generation.ParseNews(n.Payload)
		if err != nil {
			l.gw.logger.WarnContext(ctx, "wake-ups: a notification that is no news", "err", err)
			continue
		}
		l.gw.bell.ring(news)
	}
}
