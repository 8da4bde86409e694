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

// ReleasePredictionSlots gives back n creation slots taken by TakePredictionSlots and
// not used (the window had less room than the slots taken), newest first.
func (s *Store) ReleasePredictionSlots(ctx context.Context, n int) error {
	if n <= 0 {
		return nil
	}
	const q = `DELETE FROM provider_slots WHERE id IN (
		SELECT id FROM provider_slots WHERE bucket = 'create' ORDER BY id DESC LIMIT $1)`
	_, err := s.db.Exec(ctx, q, n)
	return translate("release prediction slots", err)
}
