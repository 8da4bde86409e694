// Package scaling holds the check of the workers' autoscaling query: the Helm chart's
// KEDA trigger (deploy/helm/photogen/files/autoscaling-query.sql) counts the generation
// jobs that hold or want a worker slot now, and its test runs that query against River's
// own tables in a real PostgreSQL. It has no code of its own.
package scaling
