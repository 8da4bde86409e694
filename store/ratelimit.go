// This file is the fleet-wide limits on calls to the provider, shared by every worker
// through the database: creations (take_prediction_slots) and reads
// (take_provider_slots' read bucket).

package store

import (
	"context"
	"time"
)

// TakePredictionSlots asks for up to want prediction creations under a fleet-wide limit
// of limit per window, shared by every worker through the database
// (take_prediction_slots), in one statement. It returns how many were granted and, when
// fewer than want, how long until the next one frees up.
func (s *Store) TakePredictionSlots(ctx context.Context, want, limit int, window time.Duration) (int, time.Duration, error) {
	var granted int
	var wait time.Duration
	err := s.db.QueryRow(ctx, `SELECT granted, wait FROM take_prediction_slots($1, $2, $3)`, want, limit, window).Scan(&granted, &wait)
	return granted, wait, translate("take prediction slots", err)
}

// TakeProviderReadSlots is TakePredictionSlots for the provider's reads (GET and list
// calls), under their own fleet-wide limit (take_provider_slots' read bucket).
func (s *Store) TakeProviderReadSlots(ctx context.Context, want, limit int, window time.Duration) (int, time.Duration, error) {
	var granted int
	var wait time.Duration
	err := s.db.QueryRow(ctx, `SELECT granted, wait FROM take_provider_slots('read', $1, $2, $3)`, want, limit, window).Scan(&granted, &wait)
	return granted, wait, translate("take provider read slots", err)
}
