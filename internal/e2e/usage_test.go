package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

const jwtSecret = "e2e-jwt-secret"

func mintJWT(t testing.TB, secret, method string, claims jwt.MapClaims) string {
	t.Helper()
	m := jwt.GetSigningMethod(method)
	tok, err := jwt.NewWithClaims(m, claims).SignedString([]byte(secret))
	require.NoError(t, err)
	return tok
}

func userJWT(t testing.TB, user uuid.UUID) string {
	return mintJWT(t, jwtSecret, "HS256", jwt.MapClaims{"sub": user.String(), "exp": time.Now().Add(time.Hour).Unix(), "role": "authenticated"})
}

func usageStack(t *testing.T) (*stack, *demo.Client) {
	s := newStack(t, fakereplicate.Config{}, map[string]string{"AUTH_JWT_SECRET": jwtSecret, "USAGE_LIMITS": "resumes=3,reviews=10"})
	_, c := s.startAPI(t)
	// All requests are sent at once; the client opens at most 128 connections, as a
	// fleet of front-end servers would, instead of 800 sockets racing the accept queue.
	c.HTTP = &http.Client{Timeout: 60 * time.Second, Transport: checked(t, &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128})}
	return s, c
}

func consume(t testing.TB, c *demo.Client, token, counter string, extra http.Header) demo.Response {
	h := http.Header{"Authorization": {"Bearer " + token}}
	for k, v := range extra {
		h[k] = v
	}
	resp, err := c.Do(context.Background(), http.MethodPost, "/api/usage/"+counter+"/consume", nil, h)
	require.NoError(t, err)
	return resp
}

// TestUsageLimitHoldsUnderParallelRequests is the seed's race: 500 parallel consumes for
// one user at limit 3, then 50 users at once; each ends at exactly its limit.
func TestUsageLimitHoldsUnderParallelRequests(t *testing.T) {
	t.Parallel()
	s, c := usageStack(t)
	ctx := context.Background()

	user := uuid.New()
	token := userJWT(t, user)
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for range 500 {
		wg.Go(func() {
			<-begin
			resp := consume(t, c, token, "resumes", nil)
			mu.Lock()
			codes[resp.Status]++
			mu.Unlock()
		})
	}
	close(begin)
	wg.Wait()
	require.Equal(t, map[int]int{200: 3, 403: 497}, codes)
	var used int
	require.NoError(t, s.db.Pool.QueryRow(ctx, `SELECT used FROM usage_counters WHERE user_id = $1 AND counter = 'resumes'`, user).Scan(&used))
	require.Equal(t, 3, used)

	// 50 users at once, 10 requests each for reviews (limit 10) and 6 for resumes (limit 3).
	users := make([]uuid.UUID, 50)
	accepted := map[string]int{}
	begin = make(chan struct{})
	for i := range users {
		users[i] = uuid.New()
		tok := userJWT(t, users[i])
		for j := range 16 {
			counter := "reviews"
			if j >= 10 {
				counter = "resumes"
			}
			wg.Go(func() {
				<-begin
				resp := consume(t, c, tok, counter, nil)
				require.Contains(t, []int{200, 403}, resp.Status)
				if resp.Status == 200 {
					mu.Lock()
					accepted[counter]++
					mu.Unlock()
				}
			})
		}
	}
	close(begin)
	wg.Wait()
	require.Equal(t, map[string]int{"reviews": 500, "resumes": 150}, accepted)
	rows, err := s.db.Pool.Query(ctx, `SELECT counter, used FROM usage_counters WHERE user_id = ANY($1)`, users)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var counter string
		var used int
		require.NoError(t, rows.Scan(&counter, &used))
		want := map[string]int{"reviews": 10, "resumes": 3}[counter]
		require.Equal(t, want, used, "each user ends at exactly its limit")
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 100, n)
}

func TestIdempotencyKeyConsumesOnceForParallelRetries(t *testing.T) {
	t.Parallel()
	s, c := usageStack(t)
	user := uuid.New()
	token := userJWT(t, user)
	bodies := make([]string, 20)
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for i := range bodies {
		wg.Go(func() {
			<-begin
			resp := consume(t, c, token, "resumes", http.Header{"Idempotency-Key": {"retry-1"}})
			require.Equal(t, 200, resp.Status)
			bodies[i] = string(resp.Body)
		})
	}
	close(begin)
	wg.Wait()
	for _, b := range bodies {
		require.Equal(t, bodies[0], b, "every retry gets the first answer")
	}
	require.Contains(t, bodies[0], `"used":1`)

	var used int
	require.NoError(t, s.db.Pool.QueryRow(context.Background(), `SELECT used FROM usage_counters WHERE user_id = $1`, user).Scan(&used))
	require.Equal(t, 1, used, "consumed exactly once")

	resp := consume(t, c, token, "reviews", http.Header{"Idempotency-Key": {"retry-1"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), `"idempotency_key_reused"`)
	resp = consume(t, c, token, "resumes", http.Header{"Idempotency-Key": {"retry-2"}})
	require.Contains(t, string(resp.Body), `"used":2`, "a new key consumes")
	require.Equal(t, "1", resp.Header.Get("X-RateLimit-Remaining"))
	require.Equal(t, "3", resp.Header.Get("X-RateLimit-Limit"))
}

func TestUsageRefusesBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	s, c := usageStack(t)
	user := uuid.New()
	good := userJWT(t, user)
	exp := time.Now().Add(time.Hour).Unix()
	bad := map[string]string{
		"no token":     "",
		"garbage":      "not.a.jwt",
		"wrong secret": mintJWT(t, "other", "HS256", jwt.MapClaims{"sub": user.String(), "exp": exp}),
		"expired":      mintJWT(t, jwtSecret, "HS256", jwt.MapClaims{"sub": user.String(), "exp": time.Now().Add(-time.Minute).Unix()}),
		"no exp":       mintJWT(t, jwtSecret, "HS256", jwt.MapClaims{"sub": user.String()}),
		"HS512":        mintJWT(t, jwtSecret, "HS512", jwt.MapClaims{"sub": user.String(), "exp": exp}),
		"non-uuid sub": mintJWT(t, jwtSecret, "HS256", jwt.MapClaims{"sub": "user-42", "exp": exp}),
		"alg none":     noneJWT(user, exp),
	}
	for name, tok := range bad {
		for _, path := range []string{"/api/usage/resumes/consume", "/api/usage"} {
			method := http.MethodPost
			if path == "/api/usage" {
				method = http.MethodGet
			}
			h := http.Header{}
			if tok != "" {
				h.Set("Authorization", "Bearer "+tok)
			}
			resp, err := c.Do(context.Background(), method, path, nil, h)
			require.NoError(t, err)
			require.Equal(t, http.StatusUnauthorized, resp.Status, "%s %s", name, path)
			require.Contains(t, string(resp.Body), `"code":"unauthorized"`)
		}
	}
	resp := consume(t, c, good, "photos", nil)
	require.Equal(t, http.StatusNotFound, resp.Status)
	require.Contains(t, string(resp.Body), `"unknown_counter"`)
	resp, err := c.Do(context.Background(), http.MethodPost, "/api/usage/resumes/consume", []byte(`{"oops"`), http.Header{"Authorization": {"Bearer " + good}})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, resp.Status)
	require.Contains(t, string(resp.Body), `"malformed_json"`)

	var rows int
	require.NoError(t, s.db.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM usage_counters) + (SELECT count(*) FROM usage_idempotency_keys)`).Scan(&rows))
	require.Zero(t, rows, "nothing written")

	// The refusal body carries the counter's state.
	for range 3 {
		require.Equal(t, 200, consume(t, c, good, "resumes", nil).Status)
	}
	resp = consume(t, c, good, "resumes", nil)
	require.Equal(t, http.StatusForbidden, resp.Status)
	now := time.Now().UTC()
	reset := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	require.JSONEq(t, fmt.Sprintf(`{"error":{"code":"limit_exceeded","message":"the monthly limit of 3 resumes is reached"},
		"counter":"resumes","used":3,"limit":3,"remaining":0,"resetsAt":%q}`, reset.Format(time.RFC3339)), string(resp.Body))
	require.Equal(t, fmt.Sprint(reset.Unix()), resp.Header.Get("X-RateLimit-Reset"))

	list, err := c.Do(context.Background(), http.MethodGet, "/api/usage", nil, http.Header{"Authorization": {"Bearer " + good}})
	require.NoError(t, err)
	require.Equal(t, 200, list.Status)
	require.JSONEq(t, fmt.Sprintf(`{"counters":[
		{"counter":"resumes","used":3,"limit":3,"remaining":0,"resetsAt":%[1]q},
		{"counter":"reviews","used":0,"limit":10,"remaining":10,"resetsAt":%[1]q}]}`, reset.Format(time.RFC3339)), string(list.Body))
}

// noneJWT builds an unsigned token with alg "none", which must never be accepted.
func noneJWT(user uuid.UUID, exp int64) string {
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": user.String(), "exp": exp}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	return tok
}
