// This file holds the Retry-After of the 503 the api answers when PostgreSQL cannot be
// reached (store.Unreachable), so that the client, Stripe or Replicate retries rather
// than meet a 500.

package api

// retryAfterSeconds is the Retry-After of a 503: about how long a PostgreSQL restart or
// failover takes to accept connections again.
const retryAfterSeconds = "5"
