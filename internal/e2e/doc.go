// Package e2e holds photogen's end-to-end tests: they build the real binary, start api
// and worker processes against a per-test PostgreSQL database and a fake Replicate
// served over HTTP, and drive them through the public API with parallel requests.
package e2e
