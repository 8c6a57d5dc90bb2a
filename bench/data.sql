-- Fills an empty Sequencer schema (PostgreSQL) with a realistic history, for
-- bench/run.sh and check/bench_test.go (the one copy of the generator).
--
-- Parameters, as custom settings set on the same session beforehand:
--   SET bench.rows = '1000000';  -- operation rows, exactly (at least 10000)
--   SET bench.failing = '5';     -- operations still failing (default 5)
--
-- What it makes, over 10,000 operation files (temporary table bench_files,
-- kind 'operation', with 200 'migration' files, for the caller to write to
-- the application directory):
--   * operations 0..9979 completed, each run about rows/10,000 times
--     (a name recurs every 9,980 rows, so its attempts are spread over the
--     whole table); one name in ten stored with a ".php" suffix;
--   * about 3% of rows failed and recovered later (a completed row of the
--     same name started after them), each with 1-2 operation_errors rows
--     holding a 5-8 KB trace of 30-48 frames (Laravel frames run 130-200
--     bytes); at 10,000 rows nearly every operation ran once, so only the
--     few rows left over can be failures;
--   * 20 pending files (no completed row): `failing` (up to 5) failed twice,
--     3 in progress (started minutes ago), the rest never run;
--   * failing above 5: that many more operations completed earlier and then
--     failed in their newest attempt (failing, not pending);
--   * 200 migrations, all ran; 2,000 deferred operations, one exhausted.
--
-- ANALYZE is done here; VACUUM (which cannot run inside the implicit
-- transaction a multi-statement string runs in) is left to the caller.

CREATE TEMP TABLE bench_params AS
SELECT n, failing, fail_only, fail_extra, c, s, n - s AS r,
       least(n * 3 / 100, n - s - c) AS fr,
       n - s - least(n * 3 / 100, n - s - c) AS k,
       timestamp '2020-01-01 00:00:00' AS base
FROM (
    SELECT n, failing, least(failing, 5) AS fail_only, greatest(failing - 5, 0) AS fail_extra,
           9980 AS c, 2 * least(failing, 5) + 3 + greatest(failing - 5, 0) AS s
    FROM (
        SELECT current_setting('bench.rows')::bigint AS n,
               coalesce(nullif(current_setting('bench.failing', true), ''), '5')::int AS failing
    ) raw
) derived;

DO $$
DECLARE p bench_params;
BEGIN
    SELECT * INTO p FROM bench_params;
    IF p.failing < 0 OR p.fail_extra > 9980 THEN
        RAISE EXCEPTION 'bench.failing must be between 0 and 9985 (got %)', p.failing;
    END IF;
    IF p.r < p.c THEN
        RAISE EXCEPTION 'bench.rows must be at least % for bench.failing = % (got %)', p.c + p.s, p.failing, p.n;
    END IF;
END $$;

-- The files: 10,000 operations, 200 migrations.
CREATE TEMP TABLE bench_files AS
SELECT 'operation' AS kind, i,
       to_char(timestamp '2021-01-04 09:00:00' + i * interval '137 minutes', 'YYYY_MM_DD_HH24MISS') || '_' ||
       (ARRAY['Backfill', 'Migrate', 'Recalculate', 'Notify', 'Sync', 'Import', 'Prune', 'Rebuild'])[i % 8 + 1] ||
       (ARRAY['UserEmails', 'InvoiceTotals', 'SearchIndex', 'TeamQuotas', 'LegacyOrders', 'StripeCustomers',
              'AuditLog', 'FeatureFlags', 'ProductPrices', 'ShipmentStatus'])[i / 8 % 10 + 1] AS name
FROM generate_series(0, 9999) i
UNION ALL
SELECT 'migration', i,
       to_char(timestamp '2019-06-01 10:00:00' + i * interval '3 days', 'YYYY_MM_DD_HH24MISS') || '_create_table_' || i || '_table'
FROM generate_series(0, 199) i;
CREATE UNIQUE INDEX ON bench_files (kind, i);

-- Realistic frames of a Laravel stack trace.
CREATE TEMP TABLE bench_frames (k int PRIMARY KEY, file text NOT NULL, call text NOT NULL);
INSERT INTO bench_frames VALUES
(0, '/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php', 'Illuminate\Database\Connection->runQueryCallback(''insert into "inv...'', Array, Object(Closure))'),
(1, '/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php', 'Illuminate\Database\Connection->run(''insert into "inv...'', Array, Object(Closure))'),
(2, '/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Query/Builder.php', 'Illuminate\Database\Connection->insert(''insert into "inv...'', Array)'),
(3, '/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Eloquent/Builder.php', 'Illuminate\Database\Query\Builder->insertGetId(Array, ''id'')'),
(4, '/var/www/app/vendor/laravel/framework/src/Illuminate/Support/Traits/ForwardsCalls.php', 'Illuminate\Database\Eloquent\Builder->__call(''insertGetId'', Array)'),
(5, '/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Eloquent/Model.php', 'Illuminate\Database\Eloquent\Model->performInsert(Object(Illuminate\Database\Eloquent\Builder))'),
(6, '/var/www/app/app/Services/Billing/InvoiceRecalculator.php', 'Illuminate\Database\Eloquent\Model->save()'),
(7, '/var/www/app/vendor/laravel/framework/src/Illuminate/Collections/Traits/EnumeratesValues.php', 'App\Services\Billing\InvoiceRecalculator->App\Services\Billing\{closure}(Object(App\Models\Invoice), 17)'),
(8, '/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Concerns/BuildsQueries.php', 'Illuminate\Support\Collection->each(Object(Closure))'),
(9, '/var/www/app/database/operations/2024_03_11_093000_RecalculateInvoiceTotals.php', 'Illuminate\Database\Eloquent\Builder->chunkById(500, Object(Closure))'),
(10, '/var/www/app/vendor/cline/sequencer/src/Execution/OperationExecutor.php', 'Illuminate\Database\Migrations\Migration@anonymous->handle()'),
(11, '/var/www/app/vendor/laravel/framework/src/Illuminate/Container/BoundMethod.php', 'Cline\Sequencer\Execution\OperationExecutor->execute(Object(Cline\Sequencer\Support\OperationContext))'),
(12, '/var/www/app/vendor/laravel/framework/src/Illuminate/Container/Util.php', 'Illuminate\Container\BoundMethod::Illuminate\Container\{closure}()'),
(13, '/var/www/app/vendor/laravel/framework/src/Illuminate/Container/Container.php', 'Illuminate\Container\BoundMethod::callBoundMethod(Object(Illuminate\Foundation\Application), Array, Object(Closure))'),
(14, '/var/www/app/vendor/laravel/framework/src/Illuminate/Queue/CallQueuedHandler.php', 'Illuminate\Container\Container->call(Array)'),
(15, '/var/www/app/vendor/laravel/framework/src/Illuminate/Pipeline/Pipeline.php', 'Illuminate\Queue\CallQueuedHandler->Illuminate\Queue\{closure}(Object(Cline\Sequencer\Jobs\ExecuteOperationJob))');

INSERT INTO operations (name, type, state, executed_at, completed_at, failed_at, created_at, updated_at)
SELECT f.name || CASE WHEN r.i % 10 = 3 THEN '.php' ELSE '' END,
       CASE WHEN r.i % 10 = 0 THEN 'async' WHEN r.i % 25 = 1 THEN 'batch' ELSE 'sync' END,
       r.state, r.ts,
       CASE WHEN r.state = 'completed' THEN r.ts + (r.i % 5 + 1) * interval '1 second' END,
       CASE WHEN r.state = 'failed' THEN r.ts + interval '2 seconds' END,
       r.ts,
       r.ts + CASE WHEN r.state = 'pending' THEN interval '0' ELSE (r.i % 5 + 1) * interval '1 second' END
FROM bench_params p,
LATERAL (
    -- Completed rows: name k % c, one every 10 seconds.
    SELECT (k % p.c)::int AS i, p.base + k * interval '10 seconds' AS ts, 'completed' AS state
    FROM generate_series(0, p.k - 1) k
    UNION ALL
    -- Failed rows, 1 to 4 seconds before the first completed row of their
    -- name: recovered.
    SELECT ((j * 7919) % p.c)::int, p.base + ((j * 7919) % p.c) * interval '10 seconds' - (1 + j / p.c) * interval '1 second', 'failed'
    FROM generate_series(0, p.fr - 1) j
    UNION ALL
    -- Completed earlier, failing now: the newest attempt failed.
    SELECT m, p.base + (p.k + m) * interval '10 seconds' + interval '7 seconds', 'failed'
    FROM generate_series(p.c - p.fail_extra, p.c - 1) m
    UNION ALL
    -- Never completed: failed twice.
    SELECT (p.c + x / 2)::int, p.base + (p.k + p.c + x) * interval '10 seconds', 'failed'
    FROM generate_series(0, 2 * p.fail_only - 1) x
    UNION ALL
    -- In progress: started a few minutes ago.
    SELECT q, localtimestamp(0) - (q - 9984) * interval '7 minutes', 'pending'
    FROM generate_series(9985, 9987) q
) r
JOIN bench_files f ON f.kind = 'operation' AND f.i = r.i
ORDER BY r.ts;

INSERT INTO operation_errors (operation_id, exception, message, trace, context, created_at, updated_at)
SELECT o.id, ex.exception, ex.message, tr.trace,
       jsonb_build_object('file', ex.file, 'line', 20 + o.id % 400, 'code', ex.code),
       o.failed_at, o.failed_at
FROM operations o
CROSS JOIN LATERAL generate_series(1, CASE WHEN o.id % 3 = 0 THEN 2 ELSE 1 END) e(nth)
CROSS JOIN LATERAL (
    SELECT CASE (o.id + e.nth) % 4
             WHEN 0 THEN 'Illuminate\Database\QueryException'
             WHEN 1 THEN 'RuntimeException'
             WHEN 2 THEN 'Illuminate\Http\Client\ConnectionException'
             ELSE 'ErrorException' END AS exception,
           CASE (o.id + e.nth) % 4
             WHEN 0 THEN 'SQLSTATE[23505]: Unique violation: 7 ERROR:  duplicate key value violates unique constraint "invoices_number_unique"' || E'\n' ||
                         'DETAIL:  Key (number)=(INV-' || o.id || ') already exists. (Connection: pgsql, SQL: insert into "invoices" ("number", "team_id", "total", "updated_at", "created_at") values (INV-' || o.id || ', ' || o.id % 977 || ', 129.00, 2024-03-11 09:30:12, 2024-03-11 09:30:12) returning "id")'
             WHEN 1 THEN 'Stripe API rate limit exceeded while syncing customer cus_' || left(md5(o.id::text), 14) || ': retry after 2 seconds'
             WHEN 2 THEN 'cURL error 28: Operation timed out after 30001 milliseconds with 0 bytes received (see https://curl.haxx.se/libcurl/c/libcurl-errors.html) for https://api.example.com/v2/shipments/' || o.id
             ELSE 'Undefined array key "currency"' END AS message,
           CASE (o.id + e.nth) % 4
             WHEN 0 THEN '/var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php'
             WHEN 1 THEN '/var/www/app/app/Services/Billing/StripeCustomerSync.php'
             WHEN 2 THEN '/var/www/app/vendor/laravel/framework/src/Illuminate/Http/Client/PendingRequest.php'
             ELSE '/var/www/app/app/Services/Billing/InvoiceRecalculator.php' END AS file,
           CASE (o.id + e.nth) % 4 WHEN 0 THEN 23505 ELSE 0 END AS code
) ex
CROSS JOIN LATERAL (
    SELECT string_agg(format('#%s %s(%s): %s', fn.n, fr.file, 20 + (o.id * 31 + e.nth * 13 + fn.n * 97) % 1900, fr.call), E'\n' ORDER BY fn.n) ||
           format(E'\n#%s {main}', 30 + (o.id + e.nth) % 19) AS trace
    FROM generate_series(0, 29 + ((o.id + e.nth) % 19)::int) fn(n)
    JOIN bench_frames fr ON fr.k = (o.id + fn.n * 7) % 16
) tr
WHERE o.failed_at IS NOT NULL
ORDER BY o.id, e.nth;

INSERT INTO migrations (migration, batch)
SELECT name, 1 + i / 20 FROM bench_files WHERE kind = 'migration' ORDER BY i;

INSERT INTO deferred_operations (operation, payload, due_at, status, attempts, max_attempts,
                                 reserved_at, processed_at, failed_at, last_error, created_at, updated_at)
SELECT 'App\Operations\SendReminder' || d % 50,
       json_build_object('user_id', d * 7, 'template', 'reminder'),
       timestamp '2024-01-01 00:00:00' + d * interval '1 hour',
       st.status,
       CASE st.status WHEN 'completed' THEN 1 WHEN 'failed' THEN CASE WHEN d = 1999 THEN 3 ELSE 1 END ELSE 0 END,
       3, NULL,
       CASE WHEN st.status = 'completed' THEN timestamp '2024-01-01 00:00:05' + d * interval '1 hour' END,
       CASE WHEN st.status = 'failed' THEN timestamp '2024-01-01 00:00:05' + d * interval '1 hour' END,
       CASE WHEN st.status = 'failed' THEN 'Connection refused [tcp://redis:6379]' END,
       timestamp '2023-12-31 00:00:00' + d * interval '1 hour',
       timestamp '2023-12-31 00:00:00' + d * interval '1 hour'
FROM generate_series(0, 1999) d
CROSS JOIN LATERAL (
    SELECT CASE WHEN d < 1990 THEN 'completed' WHEN d < 1993 THEN 'pending' WHEN d < 1994 THEN 'processing' ELSE 'failed' END AS status
) st;

ANALYZE operations, operation_errors, migrations, deferred_operations;
