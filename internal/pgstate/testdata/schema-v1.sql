-- A state database as seqwatch left it at schema version 1: two
-- applications (shop and blog) after one run --once of the daemon on the
-- demo application, with webhooks that refused and answered 410 Gone,
-- then a mute on shop. Taken with pg_dump --inserts (its session settings
-- and the public. prefixes removed) and never rewritten: it is what an
-- operator's database holds when a newer seqwatch is installed.

CREATE TABLE seqwatch_leases (
    app text NOT NULL,
    holder text NOT NULL,
    token bigint NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    renewed_at timestamp with time zone NOT NULL
);

CREATE TABLE seqwatch_schema (
    version integer NOT NULL
);

CREATE TABLE seqwatch_states (
    app text NOT NULL,
    doc json,
    rev bigint NOT NULL,
    token bigint NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

INSERT INTO seqwatch_leases VALUES ('shop', 'vm:26357:a2b661f4', 1, '2026-12-08 01:04:50.184381+00', '2026-12-08 01:04:46.887797+00');
INSERT INTO seqwatch_leases VALUES ('blog', 'vm:26357:a2b661f4', 1, '2026-12-08 01:04:50.184777+00', '2026-12-08 01:04:46.874115+00');

INSERT INTO seqwatch_schema VALUES (1);

INSERT INTO seqwatch_states VALUES ('blog', '{
  "version": 1,
  "initialized": true,
  "open": {
    "deferred.failed/1": {
      "kind": "deferred.failed",
      "key": "deferred.failed/1",
      "event": {
        "id": "evt_5c250431b0ca65c8109d3dcdc852a359",
        "kind": "deferred.failed",
        "key": "deferred.failed/1",
        "app": "blog",
        "environment": "demo",
        "occurred_at": "2026-12-07T21:04:45Z",
        "summary": "deferred 2024_01_16_140000_PurgeStaleCarts failed after 3 of 3 attempts: Redis connection refused [tcp://127.0.0.1:6379]",
        "deferred": {
          "id": "1",
          "operation": "2024_01_16_140000_PurgeStaleCarts",
          "attempts": 3,
          "max_attempts": 3,
          "last_error": "Redis connection refused [tcp://127.0.0.1:6379]"
        }
      },
      "opened_at": "2026-12-08T01:04:46.877219265Z",
      "last_sent_at": "2026-12-08T01:04:46.894246511Z"
    },
    "operation.failed/2024_01_13_120000_FailedOperation/5": {
      "kind": "operation.failed",
      "key": "operation.failed/2024_01_13_120000_FailedOperation/5",
      "event": {
        "id": "evt_b6154151687a4150f68825c44ac3c6eb",
        "kind": "operation.failed",
        "key": "operation.failed/2024_01_13_120000_FailedOperation/5",
        "app": "blog",
        "environment": "demo",
        "occurred_at": "2026-12-06T01:04:50Z",
        "summary": "2024_01_13_120000_FailedOperation failed: RuntimeException: Database connection lost",
        "operation": {
          "id": "5",
          "name": "2024_01_13_120000_FailedOperation",
          "type": "sync",
          "executed_at": "2026-12-06T01:04:45Z",
          "failed_at": "2026-12-06T01:04:50Z"
        },
        "errors": [
          {
            "exception": "RuntimeException",
            "message": "Database connection lost",
            "trace": "",
            "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
            "created_at": "2026-12-06T01:04:50Z",
            "trace_frames": 5,
            "trace_bytes": 518
          }
        ]
      },
      "opened_at": "2026-12-08T01:04:46.877219265Z",
      "last_sent_at": "2026-12-08T01:04:46.894246511Z"
    },
    "operation.failed/2024_01_13_120000_FailedOperation/6": {
      "kind": "operation.failed",
      "key": "operation.failed/2024_01_13_120000_FailedOperation/6",
      "event": {
        "id": "evt_4d5f086ff45a0fda8cfdf5a9a0d51ee3",
        "kind": "operation.failed",
        "key": "operation.failed/2024_01_13_120000_FailedOperation/6",
        "app": "blog",
        "environment": "demo",
        "occurred_at": "2026-12-07T22:04:49Z",
        "summary": "2024_01_13_120000_FailedOperation failed: Illuminate\\Database\\QueryException: SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
        "operation": {
          "id": "6",
          "name": "2024_01_13_120000_FailedOperation",
          "type": "sync",
          "executed_at": "2026-12-07T22:04:45Z",
          "failed_at": "2026-12-07T22:04:49Z"
        },
        "errors": [
          {
            "exception": "Illuminate\\Database\\QueryException",
            "message": "SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
            "trace": "",
            "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
            "created_at": "2026-12-07T22:04:49Z",
            "trace_frames": 5,
            "trace_bytes": 518
          }
        ]
      },
      "opened_at": "2026-12-08T01:04:46.877219265Z",
      "last_sent_at": "2026-12-08T01:04:46.894246511Z"
    }
  },
  "seen": {
    "deferred.failed/1": "2026-12-08T01:04:46.877219265Z",
    "operation.failed/2024_01_13_120000_FailedOperation/5": "2026-12-08T01:04:46.877219265Z",
    "operation.failed/2024_01_13_120000_FailedOperation/6": "2026-12-08T01:04:46.877219265Z"
  },
  "outbox": [
    {
      "event": {
        "id": "evt_01049bd06c69e5c0b637221586ff56e4",
        "kind": "digest",
        "key": "digest/first-run",
        "app": "blog",
        "environment": "demo",
        "occurred_at": "2026-12-08T01:04:46.877219265Z",
        "summary": "3 past failures found on the first check of blog",
        "items": [
          {
            "id": "evt_b6154151687a4150f68825c44ac3c6eb",
            "kind": "operation.failed",
            "key": "operation.failed/2024_01_13_120000_FailedOperation/5",
            "app": "blog",
            "environment": "demo",
            "occurred_at": "2026-12-06T01:04:50Z",
            "summary": "2024_01_13_120000_FailedOperation failed: RuntimeException: Database connection lost",
            "operation": {
              "id": "5",
              "name": "2024_01_13_120000_FailedOperation",
              "type": "sync",
              "executed_at": "2026-12-06T01:04:45Z",
              "failed_at": "2026-12-06T01:04:50Z"
            },
            "errors": [
              {
                "exception": "RuntimeException",
                "message": "Database connection lost",
                "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
                "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
                "created_at": "2026-12-06T01:04:50Z",
                "trace_frames": 5,
                "trace_bytes": 518
              }
            ]
          },
          {
            "id": "evt_4d5f086ff45a0fda8cfdf5a9a0d51ee3",
            "kind": "operation.failed",
            "key": "operation.failed/2024_01_13_120000_FailedOperation/6",
            "app": "blog",
            "environment": "demo",
            "occurred_at": "2026-12-07T22:04:49Z",
            "summary": "2024_01_13_120000_FailedOperation failed: Illuminate\\Database\\QueryException: SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
            "operation": {
              "id": "6",
              "name": "2024_01_13_120000_FailedOperation",
              "type": "sync",
              "executed_at": "2026-12-07T22:04:45Z",
              "failed_at": "2026-12-07T22:04:49Z"
            },
            "errors": [
              {
                "exception": "Illuminate\\Database\\QueryException",
                "message": "SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
                "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
                "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
                "created_at": "2026-12-07T22:04:49Z",
                "trace_frames": 5,
                "trace_bytes": 518
              }
            ]
          },
          {
            "id": "evt_5c250431b0ca65c8109d3dcdc852a359",
            "kind": "deferred.failed",
            "key": "deferred.failed/1",
            "app": "blog",
            "environment": "demo",
            "occurred_at": "2026-12-07T21:04:45Z",
            "summary": "deferred 2024_01_16_140000_PurgeStaleCarts failed after 3 of 3 attempts: Redis connection refused [tcp://127.0.0.1:6379]",
            "deferred": {
              "id": "1",
              "operation": "2024_01_16_140000_PurgeStaleCarts",
              "attempts": 3,
              "max_attempts": 3,
              "last_error": "Redis connection refused [tcp://127.0.0.1:6379]"
            }
          }
        ]
      },
      "channel": "refused-hook",
      "attempts": 1,
      "next_attempt": "2026-12-08T01:05:00.181988314Z",
      "last_error": "webhook: POST evt_01049bd06c69e5c0b637221586ff56e4: dial tcp 127.0.0.1:1: connect: connection refused",
      "batch": "bat_f907f14d85975b86"
    }
  ],
  "dead": [
    {
      "event": {
        "id": "evt_01049bd06c69e5c0b637221586ff56e4",
        "kind": "digest",
        "key": "digest/first-run",
        "app": "blog",
        "environment": "demo",
        "occurred_at": "2026-12-08T01:04:46.877219265Z",
        "summary": "3 past failures found on the first check of blog",
        "items": [
          {
            "id": "evt_b6154151687a4150f68825c44ac3c6eb",
            "kind": "operation.failed",
            "key": "operation.failed/2024_01_13_120000_FailedOperation/5",
            "app": "blog",
            "environment": "demo",
            "occurred_at": "2026-12-06T01:04:50Z",
            "summary": "2024_01_13_120000_FailedOperation failed: RuntimeException: Database connection lost",
            "operation": {
              "id": "5",
              "name": "2024_01_13_120000_FailedOperation",
              "type": "sync",
              "executed_at": "2026-12-06T01:04:45Z",
              "failed_at": "2026-12-06T01:04:50Z"
            },
            "errors": [
              {
                "exception": "RuntimeException",
                "message": "Database connection lost",
                "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
                "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
                "created_at": "2026-12-06T01:04:50Z",
                "trace_frames": 5,
                "trace_bytes": 518
              }
            ]
          },
          {
            "id": "evt_4d5f086ff45a0fda8cfdf5a9a0d51ee3",
            "kind": "operation.failed",
            "key": "operation.failed/2024_01_13_120000_FailedOperation/6",
            "app": "blog",
            "environment": "demo",
            "occurred_at": "2026-12-07T22:04:49Z",
            "summary": "2024_01_13_120000_FailedOperation failed: Illuminate\\Database\\QueryException: SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
            "operation": {
              "id": "6",
              "name": "2024_01_13_120000_FailedOperation",
              "type": "sync",
              "executed_at": "2026-12-07T22:04:45Z",
              "failed_at": "2026-12-07T22:04:49Z"
            },
            "errors": [
              {
                "exception": "Illuminate\\Database\\QueryException",
                "message": "SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
                "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
                "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
                "created_at": "2026-12-07T22:04:49Z",
                "trace_frames": 5,
                "trace_bytes": 518
              }
            ]
          },
          {
            "id": "evt_5c250431b0ca65c8109d3dcdc852a359",
            "kind": "deferred.failed",
            "key": "deferred.failed/1",
            "app": "blog",
            "environment": "demo",
            "occurred_at": "2026-12-07T21:04:45Z",
            "summary": "deferred 2024_01_16_140000_PurgeStaleCarts failed after 3 of 3 attempts: Redis connection refused [tcp://127.0.0.1:6379]",
            "deferred": {
              "id": "1",
              "operation": "2024_01_16_140000_PurgeStaleCarts",
              "attempts": 3,
              "max_attempts": 3,
              "last_error": "Redis connection refused [tcp://127.0.0.1:6379]"
            }
          }
        ]
      },
      "channel": "gone-hook",
      "attempts": 1,
      "next_attempt": "0001-01-01T00:00:00Z",
      "last_error": "webhook: POST evt_01049bd06c69e5c0b637221586ff56e4: receiver answered 410 Gone: endpoint disabled",
      "batch": "bat_d98c00477128e8a5",
      "dead_at": "2026-12-08T01:04:46.906640607Z"
    }
  ],
  "source": {
    "failures": 0,
    "alerted": false
  },
  "pending_alerted": false,
  "seq": 4,
  "disabled": {
    "gone-hook": {
      "config": "afcc95c4a41196a1251b7c81a5c2bf0a",
      "since": "2026-12-08T01:04:46.906640607Z",
      "reason": "webhook: POST evt_01049bd06c69e5c0b637221586ff56e4: receiver answered 410 Gone: endpoint disabled"
    }
  },
  "read": {
    "version": 1,
    "source": "sqlite||0|/tmp/demoapp2/database/database.sqlite|operations|operation_errors|migrations|/tmp/demoapp2/database/operations|/tmp/demoapp2/database/migrations|UTC",
    "watermark": "2026-12-08 01:04:25",
    "reconciled": "2026-12-08T01:04:46.877853251Z",
    "dirs": "/tmp/demoapp2/database/operations:1796691885750031888;/tmp/demoapp2/database/migrations:1796691885754031888;",
    "failing": [
      {
        "id": "6",
        "name": "2024_01_13_120000_FailedOperation",
        "type": "sync",
        "state": "failed",
        "executed_at": "2026-12-07T22:04:45Z",
        "failed_at": "2026-12-07T22:04:49Z",
        "recovered": false,
        "errors": [
          {
            "id": "3",
            "exception": "Illuminate\\Database\\QueryException",
            "message": "SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
            "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
            "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
            "created_at": "2026-12-07T22:04:49Z"
          }
        ]
      },
      {
        "id": "5",
        "name": "2024_01_13_120000_FailedOperation",
        "type": "sync",
        "state": "failed",
        "executed_at": "2026-12-06T01:04:45Z",
        "failed_at": "2026-12-06T01:04:50Z",
        "recovered": false,
        "errors": [
          {
            "id": "2",
            "exception": "RuntimeException",
            "message": "Database connection lost",
            "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
            "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
            "created_at": "2026-12-06T01:04:50Z"
          }
        ]
      }
    ],
    "in_progress": [
      {
        "id": "7",
        "name": "2024_01_14_120000_ImportLegacyOrders",
        "type": "async",
        "state": "pending",
        "executed_at": "2026-12-07T23:04:45Z"
      },
      {
        "id": "8",
        "name": "2024_01_15_130000_NotifyUsers",
        "type": "sync",
        "state": "pending",
        "executed_at": "2026-12-08T01:04:25Z"
      }
    ],
    "pending_operations": [
      {
        "timestamp": "2024_01_13_120000",
        "name": "2024_01_13_120000_FailedOperation",
        "file": "2024_01_13_120000_FailedOperation.php",
        "path": "/tmp/demoapp2/database/operations/2024_01_13_120000_FailedOperation.php"
      },
      {
        "timestamp": "2024_01_14_120000",
        "name": "2024_01_14_120000_ImportLegacyOrders",
        "file": "2024_01_14_120000_ImportLegacyOrders.php",
        "path": "/tmp/demoapp2/database/operations/2024_01_14_120000_ImportLegacyOrders.php"
      },
      {
        "timestamp": "2024_01_15_130000",
        "name": "2024_01_15_130000_NotifyUsers",
        "file": "2024_01_15_130000_NotifyUsers.php",
        "path": "/tmp/demoapp2/database/operations/2024_01_15_130000_NotifyUsers.php"
      },
      {
        "timestamp": "2024_01_16_140000",
        "name": "2024_01_16_140000_PurgeStaleCarts",
        "file": "2024_01_16_140000_PurgeStaleCarts.php",
        "path": "/tmp/demoapp2/database/operations/2024_01_16_140000_PurgeStaleCarts.php"
      },
      {
        "timestamp": "2024_01_17_150000",
        "name": "2024_01_17_150000_RecalculateLoyaltyPoints",
        "file": "2024_01_17_150000_RecalculateLoyaltyPoints.php",
        "path": "/tmp/demoapp2/database/operations/2024_01_17_150000_RecalculateLoyaltyPoints.php"
      }
    ],
    "pending_migrations": [
      {
        "timestamp": "2024_01_18_000000",
        "name": "2024_01_18_000000_add_loyalty_tier_to_users",
        "file": "2024_01_18_000000_add_loyalty_tier_to_users.php",
        "path": "/tmp/demoapp2/database/migrations/2024_01_18_000000_add_loyalty_tier_to_users.php"
      }
    ],
    "completed": 3
  }
}
', 7, 1, '2026-12-08 01:04:50.183175+00');
INSERT INTO seqwatch_states VALUES ('shop', '{
  "version": 1,
  "initialized": true,
  "open": {
    "deferred.failed/1": {
      "kind": "deferred.failed",
      "key": "deferred.failed/1",
      "event": {
        "id": "evt_f10ae2b966466ccd389f945449a4ae7d",
        "kind": "deferred.failed",
        "key": "deferred.failed/1",
        "app": "shop",
        "environment": "demo",
        "occurred_at": "2026-12-07T21:03:08Z",
        "summary": "deferred 2024_01_16_140000_PurgeStaleCarts failed after 3 of 3 attempts: Redis connection refused [tcp://127.0.0.1:6379]",
        "deferred": {
          "id": "1",
          "operation": "2024_01_16_140000_PurgeStaleCarts",
          "attempts": 3,
          "max_attempts": 3,
          "last_error": "Redis connection refused [tcp://127.0.0.1:6379]"
        }
      },
      "opened_at": "2026-12-08T01:04:46.890820787Z",
      "last_sent_at": "2026-12-08T01:04:46.902095824Z"
    },
    "operation.failed/2024_01_13_120000_FailedOperation/5": {
      "kind": "operation.failed",
      "key": "operation.failed/2024_01_13_120000_FailedOperation/5",
      "event": {
        "id": "evt_5622bd734c2cd49d20a4a8cc3192fa70",
        "kind": "operation.failed",
        "key": "operation.failed/2024_01_13_120000_FailedOperation/5",
        "app": "shop",
        "environment": "demo",
        "occurred_at": "2026-12-06T01:03:13Z",
        "summary": "2024_01_13_120000_FailedOperation failed: RuntimeException: Database connection lost",
        "operation": {
          "id": "5",
          "name": "2024_01_13_120000_FailedOperation",
          "type": "sync",
          "executed_at": "2026-12-06T01:03:08Z",
          "failed_at": "2026-12-06T01:03:13Z"
        },
        "errors": [
          {
            "exception": "RuntimeException",
            "message": "Database connection lost",
            "trace": "",
            "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
            "created_at": "2026-12-06T01:03:13Z",
            "trace_frames": 5,
            "trace_bytes": 518
          }
        ]
      },
      "opened_at": "2026-12-08T01:04:46.890820787Z",
      "last_sent_at": "2026-12-08T01:04:46.902095824Z"
    },
    "operation.failed/2024_01_13_120000_FailedOperation/6": {
      "kind": "operation.failed",
      "key": "operation.failed/2024_01_13_120000_FailedOperation/6",
      "event": {
        "id": "evt_b10bc517445451a90fec7d62d7252403",
        "kind": "operation.failed",
        "key": "operation.failed/2024_01_13_120000_FailedOperation/6",
        "app": "shop",
        "environment": "demo",
        "occurred_at": "2026-12-07T22:03:12Z",
        "summary": "2024_01_13_120000_FailedOperation failed: Illuminate\\Database\\QueryException: SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
        "operation": {
          "id": "6",
          "name": "2024_01_13_120000_FailedOperation",
          "type": "sync",
          "executed_at": "2026-12-07T22:03:08Z",
          "failed_at": "2026-12-07T22:03:12Z"
        },
        "errors": [
          {
            "exception": "Illuminate\\Database\\QueryException",
            "message": "SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
            "trace": "",
            "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
            "created_at": "2026-12-07T22:03:12Z",
            "trace_frames": 5,
            "trace_bytes": 518
          }
        ]
      },
      "opened_at": "2026-12-08T01:04:46.890820787Z",
      "last_sent_at": "2026-12-08T01:04:46.902095824Z"
    }
  },
  "seen": {
    "deferred.failed/1": "2026-12-08T01:04:46.890820787Z",
    "operation.failed/2024_01_13_120000_FailedOperation/5": "2026-12-08T01:04:46.890820787Z",
    "operation.failed/2024_01_13_120000_FailedOperation/6": "2026-12-08T01:04:46.890820787Z"
  },
  "outbox": [
    {
      "event": {
        "id": "evt_36712643267a3b62c47d778fd8a2591a",
        "kind": "digest",
        "key": "digest/first-run",
        "app": "shop",
        "environment": "demo",
        "occurred_at": "2026-12-08T01:04:46.890820787Z",
        "summary": "3 past failures found on the first check of shop",
        "items": [
          {
            "id": "evt_5622bd734c2cd49d20a4a8cc3192fa70",
            "kind": "operation.failed",
            "key": "operation.failed/2024_01_13_120000_FailedOperation/5",
            "app": "shop",
            "environment": "demo",
            "occurred_at": "2026-12-06T01:03:13Z",
            "summary": "2024_01_13_120000_FailedOperation failed: RuntimeException: Database connection lost",
            "operation": {
              "id": "5",
              "name": "2024_01_13_120000_FailedOperation",
              "type": "sync",
              "executed_at": "2026-12-06T01:03:08Z",
              "failed_at": "2026-12-06T01:03:13Z"
            },
            "errors": [
              {
                "exception": "RuntimeException",
                "message": "Database connection lost",
                "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
                "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
                "created_at": "2026-12-06T01:03:13Z",
                "trace_frames": 5,
                "trace_bytes": 518
              }
            ]
          },
          {
            "id": "evt_b10bc517445451a90fec7d62d7252403",
            "kind": "operation.failed",
            "key": "operation.failed/2024_01_13_120000_FailedOperation/6",
            "app": "shop",
            "environment": "demo",
            "occurred_at": "2026-12-07T22:03:12Z",
            "summary": "2024_01_13_120000_FailedOperation failed: Illuminate\\Database\\QueryException: SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
            "operation": {
              "id": "6",
              "name": "2024_01_13_120000_FailedOperation",
              "type": "sync",
              "executed_at": "2026-12-07T22:03:08Z",
              "failed_at": "2026-12-07T22:03:12Z"
            },
            "errors": [
              {
                "exception": "Illuminate\\Database\\QueryException",
                "message": "SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
                "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
                "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
                "created_at": "2026-12-07T22:03:12Z",
                "trace_frames": 5,
                "trace_bytes": 518
              }
            ]
          },
          {
            "id": "evt_f10ae2b966466ccd389f945449a4ae7d",
            "kind": "deferred.failed",
            "key": "deferred.failed/1",
            "app": "shop",
            "environment": "demo",
            "occurred_at": "2026-12-07T21:03:08Z",
            "summary": "deferred 2024_01_16_140000_PurgeStaleCarts failed after 3 of 3 attempts: Redis connection refused [tcp://127.0.0.1:6379]",
            "deferred": {
              "id": "1",
              "operation": "2024_01_16_140000_PurgeStaleCarts",
              "attempts": 3,
              "max_attempts": 3,
              "last_error": "Redis connection refused [tcp://127.0.0.1:6379]"
            }
          }
        ]
      },
      "channel": "refused-hook",
      "attempts": 1,
      "next_attempt": "2026-12-08T01:05:00.133157775Z",
      "last_error": "webhook: POST evt_36712643267a3b62c47d778fd8a2591a: dial tcp 127.0.0.1:1: connect: connection refused",
      "batch": "bat_7110caf12d8b3736"
    }
  ],
  "dead": [
    {
      "event": {
        "id": "evt_36712643267a3b62c47d778fd8a2591a",
        "kind": "digest",
        "key": "digest/first-run",
        "app": "shop",
        "environment": "demo",
        "occurred_at": "2026-12-08T01:04:46.890820787Z",
        "summary": "3 past failures found on the first check of shop",
        "items": [
          {
            "id": "evt_5622bd734c2cd49d20a4a8cc3192fa70",
            "kind": "operation.failed",
            "key": "operation.failed/2024_01_13_120000_FailedOperation/5",
            "app": "shop",
            "environment": "demo",
            "occurred_at": "2026-12-06T01:03:13Z",
            "summary": "2024_01_13_120000_FailedOperation failed: RuntimeException: Database connection lost",
            "operation": {
              "id": "5",
              "name": "2024_01_13_120000_FailedOperation",
              "type": "sync",
              "executed_at": "2026-12-06T01:03:08Z",
              "failed_at": "2026-12-06T01:03:13Z"
            },
            "errors": [
              {
                "exception": "RuntimeException",
                "message": "Database connection lost",
                "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
                "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
                "created_at": "2026-12-06T01:03:13Z",
                "trace_frames": 5,
                "trace_bytes": 518
              }
            ]
          },
          {
            "id": "evt_b10bc517445451a90fec7d62d7252403",
            "kind": "operation.failed",
            "key": "operation.failed/2024_01_13_120000_FailedOperation/6",
            "app": "shop",
            "environment": "demo",
            "occurred_at": "2026-12-07T22:03:12Z",
            "summary": "2024_01_13_120000_FailedOperation failed: Illuminate\\Database\\QueryException: SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
            "operation": {
              "id": "6",
              "name": "2024_01_13_120000_FailedOperation",
              "type": "sync",
              "executed_at": "2026-12-07T22:03:08Z",
              "failed_at": "2026-12-07T22:03:12Z"
            },
            "errors": [
              {
                "exception": "Illuminate\\Database\\QueryException",
                "message": "SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
                "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
                "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
                "created_at": "2026-12-07T22:03:12Z",
                "trace_frames": 5,
                "trace_bytes": 518
              }
            ]
          },
          {
            "id": "evt_f10ae2b966466ccd389f945449a4ae7d",
            "kind": "deferred.failed",
            "key": "deferred.failed/1",
            "app": "shop",
            "environment": "demo",
            "occurred_at": "2026-12-07T21:03:08Z",
            "summary": "deferred 2024_01_16_140000_PurgeStaleCarts failed after 3 of 3 attempts: Redis connection refused [tcp://127.0.0.1:6379]",
            "deferred": {
              "id": "1",
              "operation": "2024_01_16_140000_PurgeStaleCarts",
              "attempts": 3,
              "max_attempts": 3,
              "last_error": "Redis connection refused [tcp://127.0.0.1:6379]"
            }
          }
        ]
      },
      "channel": "gone-hook",
      "attempts": 1,
      "next_attempt": "0001-01-01T00:00:00Z",
      "last_error": "webhook: POST evt_36712643267a3b62c47d778fd8a2591a: receiver answered 410 Gone: endpoint disabled",
      "batch": "bat_59662c74d31ed7f5",
      "dead_at": "2026-12-08T01:04:46.923061459Z"
    }
  ],
  "source": {
    "failures": 0,
    "alerted": false
  },
  "pending_alerted": false,
  "seq": 4,
  "disabled": {
    "gone-hook": {
      "config": "afcc95c4a41196a1251b7c81a5c2bf0a",
      "since": "2026-12-08T01:04:46.923061459Z",
      "reason": "webhook: POST evt_36712643267a3b62c47d778fd8a2591a: receiver answered 410 Gone: endpoint disabled"
    }
  },
  "read": {
    "version": 1,
    "source": "sqlite||0|/tmp/demoapp/database/database.sqlite|operations|operation_errors|migrations|/tmp/demoapp/database/operations|/tmp/demoapp/database/migrations|UTC",
    "watermark": "2026-12-08 01:02:48",
    "reconciled": "2026-12-08T01:04:46.891315164Z",
    "dirs": "/tmp/demoapp/database/operations:1796691788702027410;/tmp/demoapp/database/migrations:1796691788706027411;",
    "failing": [
      {
        "id": "6",
        "name": "2024_01_13_120000_FailedOperation",
        "type": "sync",
        "state": "failed",
        "executed_at": "2026-12-07T22:03:08Z",
        "failed_at": "2026-12-07T22:03:12Z",
        "recovered": false,
        "errors": [
          {
            "id": "3",
            "exception": "Illuminate\\Database\\QueryException",
            "message": "SQLSTATE[08006] [7] could not connect to server: Connection refused (Connection: pgsql, SQL: select * from \"orders\" where \"legacy_id\" is null)",
            "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
            "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
            "created_at": "2026-12-07T22:03:12Z"
          }
        ]
      },
      {
        "id": "5",
        "name": "2024_01_13_120000_FailedOperation",
        "type": "sync",
        "state": "failed",
        "executed_at": "2026-12-06T01:03:08Z",
        "failed_at": "2026-12-06T01:03:13Z",
        "recovered": false,
        "errors": [
          {
            "id": "2",
            "exception": "RuntimeException",
            "message": "Database connection lost",
            "trace": "#0 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(825): Illuminate\\Database\\Connection-\u003erunQueryCallback()\n#1 /var/www/app/vendor/laravel/framework/src/Illuminate/Database/Connection.php(791): Illuminate\\Database\\Connection-\u003etryAgainIfCausedByLostConnection()\n#2 /var/www/app/database/operations/2024_01_13_120000_FailedOperation.php(21): Illuminate\\Database\\Connection-\u003eselect()\n#3 /var/www/app/vendor/cline/sequencer/src/Execution/Runner.php(88): Operation@anonymous-\u003ehandle()\n#4 {main}",
            "context": "{\"file\":\"/var/www/app/database/operations/op.php\",\"line\":21,\"code\":0}",
            "created_at": "2026-12-06T01:03:13Z"
          }
        ]
      }
    ],
    "in_progress": [
      {
        "id": "8",
        "name": "2024_01_15_130000_NotifyUsers",
        "type": "sync",
        "state": "pending",
        "executed_at": "2026-12-08T01:02:48Z"
      }
    ],
    "pending_operations": [
      {
        "timestamp": "2024_01_13_120000",
        "name": "2024_01_13_120000_FailedOperation",
        "file": "2024_01_13_120000_FailedOperation.php",
        "path": "/tmp/demoapp/database/operations/2024_01_13_120000_FailedOperation.php"
      },
      {
        "timestamp": "2024_01_15_130000",
        "name": "2024_01_15_130000_NotifyUsers",
        "file": "2024_01_15_130000_NotifyUsers.php",
        "path": "/tmp/demoapp/database/operations/2024_01_15_130000_NotifyUsers.php"
      },
      {
        "timestamp": "2024_01_16_140000",
        "name": "2024_01_16_140000_PurgeStaleCarts",
        "file": "2024_01_16_140000_PurgeStaleCarts.php",
        "path": "/tmp/demoapp/database/operations/2024_01_16_140000_PurgeStaleCarts.php"
      },
      {
        "timestamp": "2024_01_17_150000",
        "name": "2024_01_17_150000_RecalculateLoyaltyPoints",
        "file": "2024_01_17_150000_RecalculateLoyaltyPoints.php",
        "path": "/tmp/demoapp/database/operations/2024_01_17_150000_RecalculateLoyaltyPoints.php"
      }
    ],
    "pending_migrations": [
      {
        "timestamp": "2024_01_18_000000",
        "name": "2024_01_18_000000_add_loyalty_tier_to_users",
        "file": "2024_01_18_000000_add_loyalty_tier_to_users.php",
        "path": "/tmp/demoapp/database/migrations/2024_01_18_000000_add_loyalty_tier_to_users.php"
      }
    ],
    "completed": 4
  },
  "mutes": [
    {
      "id": "mut_36e717cc42c3b0bd",
      "reason": "deploy of v2",
      "start": "2026-12-08T01:04:50.200542458Z",
      "end": "2026-12-08T03:04:50.200542458Z",
      "by": "cli"
    }
  ]
}
', 8, 1, '2026-12-08 01:04:50.208061+00');

ALTER TABLE ONLY seqwatch_leases
    ADD CONSTRAINT seqwatch_leases_pkey PRIMARY KEY (app);

ALTER TABLE ONLY seqwatch_states
    ADD CONSTRAINT seqwatch_states_pkey PRIMARY KEY (app);

