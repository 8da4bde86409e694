// Package contract checks HTTP exchanges and event-stream events against photogen's
// OpenAPI document (package openapi): a Validator, and a Transport that checks every
// exchange of a test's http.Client. It is for tests; the service itself never imports it,
// so libopenapi stays out of the binary.
package contract
