// This file replays a stored event: an operator's second chance for a payment or a
// refund that matched no subscriber when it arrived.

package checkout

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"photogen/generation"
	"photogen/store"
)

// ErrUnknownEvent is returned by Replay for an event id the inbox does not have.
var ErrUnknownEvent = errors.New("no such event in the inbox")

// ErrStillUnmatched is returned by Replay when the event still matches no subscriber.
var ErrStillUnmatched = errors.New("the event still matches no subscriber")

// Replayed is what replaying an event did.
type Replayed struct {
	EventID      string
	Type         string
	Before       store.EventOutcome // the outcome it had
	Outcome      store.EventOutcome // the outcome it has now
	SubscriberID *uuid.UUID
	Changed      bool // false: the event was not unmatched, and nothing was done
}

// Replay applies a stored unmatched event again, through the matching and the effects
// that Apply uses: when a subscriber now matches, the inbox row takes its outcome and
// subscriber, and the effects (paid and the generation enqueued, or the refund) commit
// in the same transaction. An event already applied, refunded or ignored is left as it
// is (Changed false): replaying twice changes nothing. Replays of one event wait on each
// other. It returns ErrUnknownEvent for an id the inbox does not have, and
// ErrStillUnmatched, having changed nothing, when no subscriber matches yet.
func Replay(ctx context.Context, st *store.Store, jobs generation.Inserter, eventID string) (Replayed, error) {
	var res Replayed
	err := st.WithTx(ctx, func(tx *store.Store) error {
		stored, err := tx.LockStripeEvent(ctx, eventID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrUnknownEvent, eventID)
		}
		if err != nil {
			return err
		}
		res = Replayed{EventID: stored.ID, Type: stored.Type, Before: stored.Outcome, Outcome: stored.Outcome,
			SubscriberID: stored.SubscriberID}
		if stored.Outcome != store.OutcomeUnmatched {
			return nil
		}
		ev, err := Decode(stored.Payload)
		if err != nil {
			return fmt.Errorf("replay %s: %w", eventID, err)
		}
		rec, sub, err := classify(ctx, tx, ev, stored.Payload)
		if err != nil {
			return err
		}
		if sub == nil {
			return fmt.Errorf("%w: %s", ErrStillUnmatched, eventID)
		}
		if _, err := tx.ResolveStripeEvent(ctx, rec); err != nil {
			return err
		}
		res.Outcome, res.SubscriberID, res.Changed = rec.Outcome, rec.SubscriberID, true
		return effects(ctx, tx, jobs, ev, rec.Outcome, sub)
	})
	return res, err
}
