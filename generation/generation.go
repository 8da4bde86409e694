// Package generation is the one home of a subscriber's photo generation: its states,
// the River job kinds that carry it, and the use-cases that move it (pay, refund,
// request, cancel). The api, the Stripe event handling, the worker and the operator CLI
// call these functions; none of them decides on its own which state means "enqueue".
//
// Each use-case runs in the caller's transaction (a DB bound to it), so its writes and
// the job it inserts commit together or not at all. The package holds no SQL and no
// provider code: store implements DB, and the worker package works the jobs.
package generation

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// Status is where a subscriber's photos are; docs/architecture.md draws the transitions.
type Status string

// The generation states, as stored in subscribers.generation_status.
const (
	StatusAwaitingPayment Status = "awaiting_payment"
	StatusQueued          Status = "queued"
	StatusGenerating      Status = "generating"
	StatusCompleted       Status = "completed"
	StatusFailed          Status = "failed"
	StatusRefunded        Status = "refunded"
)

// Owed reports whether photos are still to be made in this state: the job runs only then.
func (s Status) Owed() bool { return s == StatusQueued || s == StatusGenerating }

// Subscriber is one paying (or about to pay) customer and their photos.
type Subscriber struct {
	ID           uuid.UUID
	Email        string
	Prompt       string
	TargetPhotos int
	PhotoURLs    []string
	Status       Status
	Error        *string
	PaidAt       *time.Time
	GeneratedAt  *time.Time
	UpdatedAt    time.Time
	Delay        *Delay // while the generation waits out an outage; nil otherwise
}

// DelayReason says, in a word a program can read, what a delayed generation waits for.
type DelayReason string

// The delay reasons, as stored in subscribers.delay_reason.
const (
	// DelayProvider: the provider answers with its own faults (5xx), times out or
	// cannot be reached, for creates, reads or the downloads of its outputs.
	DelayProvider DelayReason = "provider_unavailable"
	// DelayPhotoStore: the photo store refuses the photos (a full or read-only disk, S3
	// errors or timeouts).
	DelayPhotoStore DelayReason = "photo_store_unavailable"
)

// Delay is a generation waiting out an outage: why, and since when. The worker tries
// again every few seconds, and clears it at the first call that works.
type Delay struct {
	Reason DelayReason
	Since  time.Time
}

// DB is the database as the use-cases need it, bound to the caller's transaction.
// *store.Store, inside store.WithTx, implements it.
type DB interface {
	// LockSubscriber returns the subscriber and locks its row until the transaction ends.
	LockSubscriber(ctx context.Context, id uuid.UUID) (*Subscriber, error)
	// RequeueGeneration moves a failed generation back to queued.
	RequeueGeneration(ctx context.Context, id uuid.UUID) (*Subscriber, error)
	// MarkPaid records the payment and moves awaiting_payment to queued.
	MarkPaid(ctx context.Context, id uuid.UUID, paymentIntent string) (*Subscriber, error)
	// Refund moves queued, generating and failed to refunded.
	Refund(ctx context.Context, id uuid.UUID) (*Subscriber, error)
	// FailGeneration ends a queued or generating generation as failed; false when it was not.
	FailGeneration(ctx context.Context, id uuid.UUID, reason string) (bool, error)
	// RequestWake marks a generating subscriber's generation as having news (row-locked
	// until the transaction ends), rings the workers with it, and returns its status.
	RequestWake(ctx context.Context, news News) (Status, error)
	// TakeWake clears a subscriber's pending news and reports whether there was any.
	TakeWake(ctx context.Context, id uuid.UUID) (bool, error)
	// RecordOutcome writes a provider's report of a prediction to the ledger and returns
	// the subscriber it belongs to.
	RecordOutcome(ctx context.Context, p Prediction) (uuid.UUID, RecordResult, error)
	// Tx is the transaction itself, for River's InsertTx.
	Tx() pgx.Tx
}

// Inserter inserts and wakes River jobs in a transaction: a *river.Client[pgx.Tx],
// insert-only in the api and the CLI, working in the worker.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobRetryTx(ctx context.Context, tx pgx.Tx, id int64) (*rivertype.JobRow, error)
	Driver() riverdriver.Driver[pgx.Tx]
}
