package fakereplicate_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

func TestListIsNewestFirstAndFiltersByCreatedAt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: time.Minute})
	var ids, stamps []string
	for range 3 {
		p := e.create(t, "black-forest-labs/flux-schnell", prompt())
		ids, stamps = append(ids, p.ID), append(stamps, p.CreatedAt)
		time.Sleep(2 * time.Millisecond) // distinct created_at
	}

	page, err := e.rc.ListPredictions(t.Context())
	require.NoError(t, err)
	require.Nil(t, page.Previous)
	require.Nil(t, page.Next)
	var got []string
	for _, p := range page.Results {
		got = append(got, p.ID)
	}
	require.Equal(t, []string{ids[2], ids[1], ids[0]}, got, "newest first")

	list := func(q url.Values) []string {
		resp, body := e.do(t, http.MethodGet, "/v1/predictions?"+q.Encode(), "")
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var page struct {
			Results []struct{ ID string } `json:"results"`
		}
		require.NoError(t, json.Unmarshal(body, &page))
		out := []string{}
		for _, r := range page.Results {
			out = append(out, r.ID)
		}
		return out
	}
	require.Equal(t, []string{ids[2], ids[1]}, list(url.Values{"created_after": {stamps[0]}}))
	require.Equal(t, []string{ids[1], ids[0]}, list(url.Values{"created_before": {stamps[2]}}))
	require.Equal(t, []string{ids[1]}, list(url.Values{"created_after": {stamps[0]}, "created_before": {stamps[2]}}))
	hourAgo := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	require.Len(t, list(url.Values{"created_after": {hourAgo}}), 3, "whole-second RFC 3339 too")
	require.Empty(t, list(url.Values{"created_before": {hourAgo}}))

	resp, _ := e.do(t, http.MethodGet, "/v1/predictions?created_after=yesterday", "")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}
