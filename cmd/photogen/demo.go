// This file is `photogen demo`: the whole flow, driven as the front end and Stripe would.

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"photogen/internal/demo"

	"github.com/spf13/cobra"
)

func demoCmd(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Drive the whole flow against a running server: sign up, pay, watch 30 photos arrive",
		Args:  exactArgs(0),
	}
	f := cmd.Flags()
	url := f.String("url", baseURL(e.getenv("HTTP_ADDR")), "base URL of a running photogen api (default from HTTP_ADDR)")
	secret := f.String("webhook-secret", e.getenv("STRIPE_WEBHOOK_SECRET"), "the server's STRIPE_WEBHOOK_SECRET")
	prompt := f.String("prompt", "a studio portrait of a golden retriever wearing a bow tie", "generation prompt")
	timeout := f.Duration("timeout", 5*time.Minute, "give up after this long")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *secret == "" {
			return usageError(errors.New("--webhook-secret (or STRIPE_WEBHOOK_SECRET) is required"))
		}
		return runDemo(cmd.Context(), *url, *secret, *prompt, *timeout, e.stdout)
	}
	return cmd
}

// runDemo creates a subscriber, pays for them with a correctly signed Stripe webhook,
// and shows a progress bar until the photos are there.
func runDemo(ctx context.Context, url, secret, prompt string, timeout time.Duration, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &demo.Client{BaseURL: strings.TrimRight(url, "/"), HTTP: &http.Client{Timeout: 10 * time.Second}}
	start := time.Now()

	email := "demo-" + randomHex(4) + "@example.com"
	sub, err := c.CreateSubscriber(ctx, email, prompt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created subscriber %s (%s)\n", sub.SubscriberID, email)
	// The token goes in the page's fragment, which the browser never sends to the server.
	page := c.BaseURL + "/#token=" + sub.AccessToken
	fmt.Fprintf(stdout, "watch it in a browser:  %s\n", page)
	fmt.Fprintf(stdout, "or ask for the status:  curl -sS -H 'Authorization: Bearer %s' %s/api/blueprint/status\n", sub.AccessToken, c.BaseURL)
	resp, err := c.SendWebhook(ctx, secret, demo.CheckoutCompleted("evt_demo_"+randomHex(8), sub.SubscriberID, email), time.Now())
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("webhook refused: %d %s", resp.Status, resp.Body)
	}
	fmt.Fprintln(stdout, "checkout webhook accepted; generating...")

	for {
		st, err := c.GetStatus(ctx, sub.AccessToken)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\r[%-30s] %2d/%d %-10s", strings.Repeat("#", st.TotalPhotos*30/max(st.TargetPhotos, 1)), st.TotalPhotos, st.TargetPhotos, st.State)
		switch st.State {
		case "completed":
			fmt.Fprintf(stdout, "\n%d photos in %.1fs:\n", st.TotalPhotos, time.Since(start).Seconds())
			for _, u := range st.PhotoURLs {
				fmt.Fprintln(stdout, "  "+u)
			}
			// Again at the end: the photos' URLs have pushed the first one off screen.
			fmt.Fprintf(stdout, "see them on the page:  %s\n", page)
			return nil
		case "failed":
			return fmt.Errorf("generation failed: %s", deref(st.Error))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up waiting: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// baseURL turns HTTP_ADDR (":8080", "127.0.0.1:8080") into a URL to call.
func baseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "http://127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
