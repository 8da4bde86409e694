// This file lists the Stripe events of the webhook inbox by outcome and replays one:
// how an operator finishes a payment that arrived before its subscriber existed.

package operator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"photogen/checkout"
	"photogen/store"
)

var outcomes = []store.EventOutcome{store.OutcomeApplied, store.OutcomeUnmatched, store.OutcomeIgnored, store.OutcomeRefunded}

// ParseOutcome returns the inbox outcome named s, or an error that lists the outcomes.
func ParseOutcome(s string) (store.EventOutcome, error) { return parseName("outcome", s, outcomes) }

type listedEvent struct {
	EventID      string     `json:"event_id"`
	EventType    string     `json:"event_type"`
	Outcome      string     `json:"outcome"`
	SubscriberID *uuid.UUID `json:"subscriber_id"`
	Email        string     `json:"email"`
	Reference    string     `json:"client_reference_id"`
	ReceivedAt   time.Time  `json:"received_at"`
}

// ListStripeEvents writes the inbox's events with outcome (every outcome when empty),
// oldest first, at most limit of them, to w in format f.
func (o *Operator) ListStripeEvents(ctx context.Context, outcome store.EventOutcome, limit int, w io.Writer, f Format) error {
	events, err := o.store.ListStripeEvents(ctx, outcome, limit+1)
	if err != nil {
		return err
	}
	v := struct {
		Events []listedEvent `json:"events"`
		More   bool          `json:"more"`
	}{Events: []listedEvent{}, More: len(events) > limit}
	for _, e := range events[:min(len(events), limit)] {
		v.Events = append(v.Events, listedEvent{EventID: e.ID, EventType: e.Type, Outcome: string(e.Outcome),
			SubscriberID: e.SubscriberID, Email: e.Email, Reference: e.Reference, ReceivedAt: e.ReceivedAt.UTC()})
	}
	return f.write(w, v, func(w *tabwriter.Writer) {
		if len(v.Events) == 0 {
			fmt.Fprintln(w, "no event matches")
			return
		}
		fmt.Fprintln(w, "EVENT\tTYPE\tOUTCOME\tRECEIVED\tEMAIL\tREFERENCE\tSUBSCRIBER")
		for _, e := range v.Events {
			sub := ""
			if e.SubscriberID != nil {
				sub = e.SubscriberID.String()
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.EventID, e.EventType, e.Outcome, stamp(e.ReceivedAt),
				e.Email, e.Reference, sub)
		}
		if v.More {
			fmt.Fprintf(w, "(only the first %d: raise --limit for more)\n", limit)
		}
	})
}

// replayView is a replay as `stripe-events replay --json` writes it.
type replayView struct {
	EventID          string     `json:"event_id"`
	EventType        string     `json:"event_type"`
	OutcomeBefore    string     `json:"outcome_before"`
	Outcome          string     `json:"outcome"`
	Changed          bool       `json:"changed"`
	SubscriberID     *uuid.UUID `json:"subscriber_id"`
	GenerationStatus string     `json:"generation_status,omitempty"`
}

// ReplayStripeEvent applies a stored unmatched event again (checkout.Replay) and writes
// what it did to w in format f. An event that is not unmatched is left alone, and the
// answer says so; one that still matches no subscriber is an error that says what to do.
func (o *Operator) ReplayStripeEvent(ctx context.Context, eventID string, w io.Writer, f Format) (checkout.Replayed, error) {
	res, err := checkout.Replay(ctx, o.store, o.jobs, eventID)
	if errors.Is(err, checkout.ErrStillUnmatched) {
		return res, fmt.Errorf("%w: create or correct the subscriber it names (stripe-events list shows its email and reference), then replay it again", err)
	}
	if err != nil {
		return res, err
	}
	v := replayView{EventID: res.EventID, EventType: res.Type, OutcomeBefore: string(res.Before), Outcome: string(res.Outcome),
		Changed: res.Changed, SubscriberID: res.SubscriberID}
	if res.SubscriberID != nil {
		sub, err := o.store.SubscriberByID(ctx, *res.SubscriberID)
		if err != nil {
			return res, err
		}
		v.GenerationStatus = string(sub.Status)
	}
	return res, f.write(w, v, func(w *tabwriter.Writer) {
		switch {
		case v.Changed:
			fmt.Fprintf(w, "event %s (%s) replayed: %s, subscriber %s, generation %s\n", v.EventID, v.EventType, v.Outcome,
				v.SubscriberID, v.GenerationStatus)
		case v.SubscriberID != nil:
			fmt.Fprintf(w, "event %s is already %s (subscriber %s): nothing to replay\n", v.EventID, v.Outcome, v.SubscriberID)
		default:
			fmt.Fprintf(w, "event %s is %s: nothing to replay\n", v.EventID, v.Outcome)
		}
	})
}
