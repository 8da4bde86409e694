package store

import (
	"context"
	"time"
)

// TakePredictionSlot asks for one prediction creation under a fleet-wide limit of limit
// per window, shared by every worker through the database (take_prediction_slot). It
// returns 0 when the slot is granted, else how long until one frees up.
func (s *Store) TakePredictionSlot(ctx context.Context, limit int, window time.Duration) (time.Duration, error) {
	var wait time.Duration
	err := s.db.QueryRow(ctx, `SELECT take_prediction_slot($1, $2)`, limit, window).Scan(&wait)
	return wait, translate("take prediction slot", err)
}
