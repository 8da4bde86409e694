package contract

// Tests of the Validator and its Transport against a scripted server: right answers pass,
// wrong fields, statuses and headers are caught, and deliberate bad input is not reported.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

const token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 43 characters, the shape of an access token

// reply is what the scripted server answers.
type reply struct {
	status  int
	headers map[string]string
	body    string
}

// scripted serves reply to every request, with the X-Request-Id every photogen answer has, and
// records the request bodies it read.
func scripted(t *testing.T, r reply) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.Header().Set("X-Request-Id", "req-1")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		for k, v := range r.headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(r.status)
		_, _ = io.WriteString(w, r.body)
	}))
	t.Cleanup(srv.Close)
	return srv, &bodies
}

const goodStatus = `{"state":"generating","paid":true,"totalPhotos":2,"targetPhotos":30,` +
	`"photoUrls":["https://photos.example.com/1.png","http://127.0.0.1:8080/photos/2.png"],` +
	`"updatedAt":"2026-11-23T16:04:58Z","error":null,"delay":null}`

var statusHeaders = map[string]string{"ETag": `"abc"`, "Cache-Control": "private, no-cache"}

func statusRequest(t *testing.T, base string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, base+"/api/blueprint/status", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// exchange sends req to a server answering r and validates the response.
func exchange(t *testing.T, v *Validator, r reply, req func(base string) *http.Request) error {
	t.Helper()
	srv, _ := scripted(t, r)
	rq := req(srv.URL)
	resp, err := http.DefaultClient.Do(rq)
	require.NoError(t, err)
	defer resp.Body.Close()
	verr := v.ValidateResponse(rq, resp)
	if verr == nil {
		// The body was put back for the caller.
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, r.body, string(b))
	}
	return verr
}

func TestValidateResponse(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	status := func(t *testing.T) func(string) *http.Request {
		return func(base string) *http.Request { return statusRequest(t, base) }
	}
	for _, tc := range []struct {
		name string
		r    reply
		want string // "" for valid, else a substring of the error
	}{
		{"status 200", reply{200, statusHeaders, goodStatus}, ""},
		{"failed with a reason", reply{200, statusHeaders, strings.Replace(strings.Replace(goodStatus, `"error":null`, `"error":"the model refused the prompt"`, 1), "generating", "failed", 1)}, ""},
		{"totalPhotos as a string", reply{200, statusHeaders, strings.Replace(goodStatus, `"totalPhotos":2`, `"totalPhotos":"2"`, 1)}, "totalPhotos"},
		{"missing photoUrls", reply{200, statusHeaders, strings.Replace(goodStatus, `"photoUrls":["https://photos.example.com/1.png","http://127.0.0.1:8080/photos/2.png"],`, "", 1)}, "photoUrls"},
		{"unknown state", reply{200, statusHeaders, strings.Replace(goodStatus, "generating", "painting", 1)}, "state"},
		{"an extra field", reply{200, statusHeaders, strings.Replace(goodStatus, `"paid":true`, `"paid":true,"secret":"x"`, 1)}, "secret"},
		{"error as a number", reply{200, statusHeaders, strings.Replace(goodStatus, `"error":null`, `"error":3`, 1)}, "error"},
		{"delayed", reply{200, statusHeaders, strings.Replace(goodStatus, `"delay":null`, `"delay":{"reason":"provider_unavailable","since":"2026-11-23T16:04:58Z"}`, 1)}, ""},
		{"a delay without its reason", reply{200, statusHeaders, strings.Replace(goodStatus, `"delay":null`, `"delay":{"since":"2026-11-23T16:04:58Z"}`, 1)}, "reason"},
		{"no ETag", reply{200, map[string]string{"Cache-Control": "no-cache"}, goodStatus}, "ETag"},
		{"304 without a body", reply{304, statusHeaders, ""}, ""},
		{"401 missing token", reply{401, nil, `{"error":{"code":"missing_token","message":"send the access token"}}`}, ""},
		{"404 bad token", reply{404, nil, `{"error":{"code":"not_found","message":"no subscriber has this access token"}}`}, ""},
		{"an error without its message", reply{404, nil, `{"error":{"code":"not_found"}}`}, "message"},
		{"an undocumented status", reply{402, nil, `{"error":{"code":"payment_required","message":"pay"}}`}, "402"},
		{"HTML instead of JSON", reply{200, map[string]string{"Content-Type": "text/html", "ETag": `"a"`, "Cache-Control": "no-cache"}, "<p>hi</p>"}, "text/html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := exchange(t, v, tc.r, status(t))
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "response", ve.What)
		})
	}
}

func TestValidateResponseOfUsage(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	consume := func(base string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/usage/resumes/consume", nil)
		req.Header.Set("Authorization", "Bearer a.b.c")
		return req
	}
	limits := map[string]string{"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1764547200"}
	view := `"counter":"resumes","used":3,"limit":3,"remaining":0,"resetsAt":"2026-12-01T00:00:00Z"`
	require.NoError(t, exchange(t, v, reply{200, limits, "{" + view + "}"}, consume))
	require.NoError(t, exchange(t, v, reply{403, limits, `{"error":{"code":"limit_exceeded","message":"the monthly limit of 3 resumes is reached"},` + view + "}"}, consume))
	err := exchange(t, v, reply{403, limits, `{"error":{"code":"limit_exceeded","message":"no"}}`}, consume)
	require.ErrorContains(t, err, "counter")
	err = exchange(t, v, reply{200, map[string]string{"X-RateLimit-Limit": "3"}, "{" + view + "}"}, consume)
	require.ErrorContains(t, err, "X-RateLimit-Remaining")
}

func TestValidateResponseLeavesAnEventStreamUnread(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	stream := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "r")
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "event: state\nid: 0\ndata: {}\n\n")
		w.(http.Flusher).Flush()
		<-stream // an endless stream until the test ends
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stream) })
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/blueprint/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, v.ValidateResponse(req, resp)) // returns: did not wait for the stream's end
	line := make([]byte, 13)
	_, err = io.ReadFull(resp.Body, line)
	require.NoError(t, err)
	require.Equal(t, "event: state\n", string(line))
}

func TestValidateEvent(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	require.NoError(t, v.ValidateEvent("photo", []byte(`{"index":7,"url":"https://photos.example.com/7.png"}`)))
	require.NoError(t, v.ValidateEvent("state", []byte(`{"state":"completed","totalPhotos":30,"targetPhotos":30,"error":null,"delay":null}`)))
	require.NoError(t, v.ValidateEvent("state", []byte(`{"state":"generating","totalPhotos":3,"targetPhotos":30,"error":null,`+
		`"delay":{"reason":"photo_store_unavailable","since":"2026-11-23T16:04:58Z"}}`)))
	require.ErrorContains(t, v.ValidateEvent("state", []byte(`{"state":"generating","totalPhotos":3,"targetPhotos":30,"error":null,`+
		`"delay":{"reason":"tired","since":"2026-11-23T16:04:58Z"}}`)), "delay")
	require.ErrorContains(t, v.ValidateEvent("photo", []byte(`{"index":0,"url":"https://x/7.png"}`)), "index")
	require.ErrorContains(t, v.ValidateEvent("state", []byte(`{"state":"completed","totalPhotos":"30","targetPhotos":30,"error":null}`)), "totalPhotos")
	require.ErrorContains(t, v.ValidateEvent("state", []byte(`{"state":"completed","targetPhotos":30,"error":null}`)), "totalPhotos")
	require.ErrorContains(t, v.ValidateEvent("ping", []byte(`{}`)), "ping")
}

func TestValidateRequest(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	post := func(path, body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	req := post("/api/blueprint/subscribers", `{"email":"ann@example.com","strategy":{"prompt":"a portrait","style":"warm"}}`)
	require.NoError(t, v.ValidateRequest(req))
	b, _ := io.ReadAll(req.Body)
	require.Contains(t, string(b), "ann@example.com", "the body is put back")

	require.ErrorContains(t, v.ValidateRequest(post("/api/blueprint/subscribers", `{"email":"ann@example.com","strategy":{}}`)), "prompt")
	require.ErrorContains(t, v.ValidateRequest(post("/api/blueprint/generate-paid", `{"accessToken":7}`)), "accessToken")

	get := httptest.NewRequest(http.MethodGet, "/api/blueprint/status", nil)
	require.Error(t, v.ValidateRequest(get), "no token")
	get.Header.Set("Authorization", "Bearer "+token)
	require.NoError(t, v.ValidateRequest(get))
	require.NoError(t, v.ValidateRequest(httptest.NewRequest(http.MethodGet, "/api/blueprint/status?accessToken="+token, nil)))
	require.Error(t, v.ValidateRequest(httptest.NewRequest(http.MethodDelete, "/api/blueprint/status", nil)), "no such operation")

	// Header names as a client wrote them, not canonical: the server sees them all the same.
	hook := post("/webhooks/replicate", `{"id":"p1","status":"succeeded","output":["https://x/1.png"]}`)
	hook.Header["webhook-id"] = []string{"msg_1"}
	hook.Header["webhook-timestamp"] = []string{"1700000000"}
	hook.Header["webhook-signature"] = []string{"v1,c2lnbmF0dXJl"}
	require.NoError(t, v.ValidateRequest(hook))
	_, canonicalized := hook.Header["Webhook-Id"]
	require.False(t, canonicalized, "the caller's request is left as it was")
}

// recorder is a TB that keeps what Transport reports.
type recorder struct {
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestTransport(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	badJSON := `{"error":{"code":"malformed_json","message":"the request body is not valid JSON"}}`
	created := `{"subscriberId":"7d5e1c3a-7f3e-4a53-9a43-2a4f6f0e9c11","accessToken":"` + token + `"}`
	for _, tc := range []struct {
		name         string
		r            reply
		method, path string
		body         string
		reported     string // "" for nothing reported
	}{
		{"a valid exchange", reply{201, nil, created}, "POST", "/api/blueprint/subscribers", `{"email":"a@b.co","strategy":{"prompt":"p"}}`, ""},
		{"bad input refused", reply{400, nil, badJSON}, "POST", "/api/blueprint/subscribers", `{"email":`, ""},
		{"bad input accepted", reply{201, nil, created}, "POST", "/api/blueprint/subscribers", `{"email":"a@b.co"}`, "accepted a request"},
		{"a wrong response", reply{201, nil, `{"subscriberId":"7d5e1c3a-7f3e-4a53-9a43-2a4f6f0e9c11"}`}, "POST", "/api/blueprint/subscribers", `{"email":"a@b.co","strategy":{"prompt":"p"}}`, "accessToken"},
		{"an unknown path answered 404", reply{404, nil, `{"error":{"code":"not_found","message":"no such endpoint"}}`}, "GET", "/api/nope", "", ""},
		{"a wrong method answered 405", reply{405, nil, `{"error":{"code":"method_not_allowed","message":"method not allowed"}}`}, "DELETE", "/api/blueprint/status", "", ""},
		{"an undocumented path answered 200", reply{200, nil, `{}`}, "GET", "/api/secret", "", "no such operation"},
		{"a documented path answered a 404 of the wrong shape", reply{404, nil, `not json`}, "POST", "/api/blueprint/generate-paid", `{"accessToken":"x"}`, "generate-paid"},
		{"outside the API", reply{200, map[string]string{"Content-Type": "image/png"}, "PNG"}, "GET", "/photos/a.png", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, bodies := scripted(t, tc.r)
			rec := &recorder{}
			client := &http.Client{Transport: v.Transport(nil, rec)}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			require.NoError(t, err)
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.r.body, string(got), "the caller gets the body")
			require.Equal(t, []string{tc.body}, *bodies, "the server gets the body")
			if tc.reported == "" {
				require.Empty(t, rec.errs)
				return
			}
			require.Len(t, rec.errs, 1)
			require.Contains(t, strings.ToLower(rec.errs[0]), strings.ToLower(tc.reported))
		})
	}
}

// TestTransportInParallel checks that one Transport can be shared by parallel requests (run
// with -race).
func TestTransportInParallel(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	srv, _ := scripted(t, reply{200, statusHeaders, goodStatus})
	client := &http.Client{Transport: v.Transport(nil, t)}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			resp, err := client.Do(statusRequest(t, srv.URL))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
}
