package generation

// Tests of what the wake-up borrows from River's internals.

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// TestNotifyInsertIsRiversOwn lets River announce an insert, then announces one with
// notifyInsert, and requires the same channel and payload: River's workers fetch at
// once only on the announcement they know.
func TestNotifyInsertIsRiversOwn(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db.URL)
	require.NoError(t, err)
	defer conn.Close(context.WithoutCancel(ctx))
	// River's driver qualifies the topic with the schema (current_schema() by default).
	var schema string
	require.NoError(t, conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema))
	_, err = conn.Exec(ctx, "LISTEN "+pgx.Identifier{schema + "." + insertTopic}.Sanitize())
	require.NoError(t, err)

	client, err := NewInserter(db.Pool)
	require.NoError(t, err)
	res, err := client.Insert(ctx, CancelArgs{SubscriberID: uuid.New()}, nil)
	require.NoError(t, err)
	require.Equal(t, river.QueueDefault, res.Job.Queue)
	rivers, err := conn.WaitForNotification(ctx)
	require.NoError(t, err, "River announces an insert on the channel we borrow")

	require.NoError(t, pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		return notifyInsert(ctx, tx, client, res.Job.Queue)
	}))
	ours, err := conn.WaitForNotification(ctx)
	require.NoError(t, err)
	require.Equal(t, pick(rivers), pick(ours))
}

func pick(n *pgconn.Notification) [2]string { return [2]string{n.Channel, n.Payload} }
