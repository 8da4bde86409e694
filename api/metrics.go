// This file is what the api needs of the metrics package. The api does not serve
// /metrics: the process serves it on a listener of its own (METRICS_ADDR).

package api

import "github.com/gin-gonic/gin"

// Metrics is what the api records requests and webhooks in.
type Metrics interface {
	GinMiddleware() gin.HandlerFunc // counts and times requests by route
	WebhookReceived(outcome string) // counts Replicate webhook deliveries
	PredictionFinished(status string)
}
