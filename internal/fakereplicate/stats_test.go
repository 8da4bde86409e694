package fakereplicate_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

func TestMaxInFlightIsExactUnderParallelCreates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: time.Minute}) // none ends during the test
	ids := make(chan string, 5)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			p, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), nil, false)
			if err == nil {
				ids <- p.ID
			}
		})
	}
	wg.Wait()
	close(ids)
	require.Len(t, ids, 5)
	require.Equal(t, fakereplicate.Stats{Created: 5, InFlight: 5, MaxInFlight: 5}, e.fake.Stats())
	for id := range ids {
		_, err := e.rc.CancelPrediction(t.Context(), id)
		require.NoError(t, err)
	}
	require.Equal(t, fakereplicate.Stats{Created: 5, Canceled: 5, MaxInFlight: 5}, e.fake.Stats())
}

// outcome is what one client saw of one prediction.
type outcome struct{ created, createErrors, succeeded, failed, canceled, serverErrors int }

// drive creates a prediction and follows it to its end, canceling it when it has not
// ended after 400 ms, and retrying polls that meet a server error.
func drive(t *testing.T, e *env) outcome {
	var o outcome
	var apiErr *replicate.APIError
	p, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), nil, false)
	if errors.As(err, &apiErr) && apiErr.Status >= 500 {
		return outcome{createErrors: 1, serverErrors: 1}
	} else if err != nil {
		t.Errorf("create: %v", err)
		return o
	}
	o.created = 1
	for deadline := time.Now().Add(400 * time.Millisecond); !p.Status.Terminated(); {
		next := e.rc.GetPrediction
		if time.Now().After(deadline) {
			next = e.rc.CancelPrediction
		}
		got, err := next(t.Context(), p.ID)
		switch {
		case errors.As(err, &apiErr) && apiErr.Status >= 500:
			o.serverErrors++
		case err != nil:
			t.Errorf("follow %s: %v", p.ID, err)
			return o
		default:
			p = got
		}
		time.Sleep(10 * time.Millisecond)
	}
	switch p.Status {
	case replicate.Succeeded:
		o.succeeded = 1
	case replicate.Failed:
		o.failed = 1
	case replicate.Canceled:
		o.canceled = 1
	}
	return o
}

func TestStatsAreExactUnderHundredsOfConcurrentClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 10 * time.Millisecond, Jitter: 20 * time.Millisecond, Seed: 5,
		ServerErrorRate: 0.05, FailRate: 0.2, HangRate: 0.1})
	const clients = 200
	outcomes := make(chan outcome, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() { outcomes <- drive(t, e) })
	}
	wg.Wait()
	close(outcomes)
	var sum outcome
	for o := range outcomes {
		sum.created += o.created
		sum.createErrors += o.createErrors
		sum.succeeded += o.succeeded
		sum.failed += o.failed
		sum.canceled += o.canceled
		sum.serverErrors += o.serverErrors
	}
	got := e.fake.Stats()
	require.Equal(t, fakereplicate.Stats{
		Created: sum.created, Succeeded: sum.succeeded, Failed: sum.failed, Canceled: sum.canceled,
		ServerErrors: sum.serverErrors, MaxInFlight: got.MaxInFlight,
	}, got)
	require.Equal(t, clients, sum.created+sum.createErrors, "every create answered 201 or 5xx")
	require.Positive(t, sum.failed)
	require.Positive(t, sum.canceled, "the hanging ones")
	require.Positive(t, sum.serverErrors)
	require.Greater(t, got.MaxInFlight, 1)
	require.LessOrEqual(t, got.MaxInFlight, sum.created)

	resp, body := e.do(t, http.MethodGet, "/_fake/stats", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var served fakereplicate.Stats
	require.NoError(t, json.Unmarshal(body, &served))
	require.Equal(t, got, served)
	require.Contains(t, string(body), `"max_in_flight":`)
}
