-- The workers' autoscaling query (KEDA's PostgreSQL trigger, templates/worker-autoscaling.yaml):
-- the generation jobs that hold or want a worker slot now. docs/operations.md, "The autoscaling rule".
SELECT count(*) FROM river_job
WHERE kind = 'generate_photos'
  AND (state IN ('available', 'running')
       OR (state IN ('scheduled', 'retryable') AND scheduled_at <= now()))
