-- The floor for `seqwatch check` on PostgreSQL: the queries check.Read issues
-- (check/read.go), as one psql script. Keep it in step with read.go.
--
-- psql variables: failing and running are the IN lists of the names whose
-- newest run did not complete (seqwatch looks closer at those only), both spellings ('n', 'n.php', ...), or NULL.
--
--   psql -X -q -At -o /dev/null -v failing="'a', 'a.php'" -v running=NULL -f bench/floor.sql

SELECT CAST(to_regclass('operations') AS TEXT) IS NOT NULL, CAST(to_regclass('operation_errors') AS TEXT) IS NOT NULL,
       CAST(to_regclass('migrations') AS TEXT) IS NOT NULL, CAST(to_regclass('deferred_operations') AS TEXT) IS NOT NULL;

WITH RECURSIVE t AS (
  (SELECT name, executed_at, completed_at FROM "operations" ORDER BY name DESC, executed_at DESC LIMIT 1)
  UNION ALL
  SELECT o.name, o.executed_at, o.completed_at FROM t CROSS JOIN LATERAL
    (SELECT name, executed_at, completed_at FROM "operations" WHERE name < t.name ORDER BY name DESC, executed_at DESC LIMIT 1) o
)
SELECT name, executed_at, completed_at IS NOT NULL FROM t;

SELECT name, MAX(executed_at) FROM "operations" WHERE completed_at IS NOT NULL AND name IN (:failing) GROUP BY name;

SELECT CAST(id AS TEXT), name, type, state, executed_at, completed_at, failed_at FROM "operations"
WHERE failed_at IS NOT NULL AND name IN (:failing);

SELECT CAST(e.operation_id AS TEXT), CAST(e.id AS TEXT), e.exception, e.message, e.trace, CAST(e.context AS TEXT), e.created_at
FROM "operation_errors" e
WHERE e.operation_id IN (SELECT id FROM "operations" WHERE failed_at IS NOT NULL AND name IN (:failing))
ORDER BY e.created_at, e.id;

SELECT CAST(id AS TEXT), name, type, state, executed_at, completed_at, failed_at FROM "operations"
WHERE completed_at IS NULL AND failed_at IS NULL AND skipped_at IS NULL AND rolled_back_at IS NULL AND name IN (:running);

SELECT migration FROM "migrations";

SELECT status, COUNT(*) FROM "deferred_operations" WHERE status IN ('pending', 'processing') GROUP BY status;

SELECT CAST(id AS TEXT), operation, attempts, max_attempts, failed_at, last_error FROM "deferred_operations"
WHERE status = 'failed' AND attempts >= max_attempts ORDER BY failed_at DESC;
