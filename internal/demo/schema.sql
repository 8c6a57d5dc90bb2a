-- The Sequencer schema as Laravel creates it on SQLite.
create table "migrations" ("id" integer primary key autoincrement not null, "migration" varchar not null, "batch" integer not null);
create table "operations" ("id" integer primary key autoincrement not null, "name" varchar not null, "type" varchar not null, "state" varchar not null default 'pending', "actor_type" varchar, "actor_id" varchar, "executed_at" datetime not null, "completed_at" datetime, "failed_at" datetime, "skipped_at" datetime, "skip_reason" text, "rolled_back_at" datetime, "created_at" datetime, "updated_at" datetime);
create unique index "operations_name_executed_at_unique" on "operations" ("name", "executed_at");
create index "operations_name_index" on "operations" ("name");
create index "operations_type_index" on "operations" ("type");
create index "operations_executed_at_index" on "operations" ("executed_at");
create table "operation_errors" ("id" integer primary key autoincrement not null, "operation_id" integer not null, "exception" varchar not null, "message" text not null, "trace" text not null, "context" text, "created_at" datetime, "updated_at" datetime, foreign key("operation_id") references "operations"("id") on delete cascade);
create table "deferred_operations" ("id" integer primary key autoincrement not null, "operation" varchar not null, "payload" text, "due_at" datetime not null, "status" varchar not null default 'pending', "attempts" integer not null default '0', "max_attempts" integer not null default '3', "reserved_at" datetime, "processed_at" datetime, "failed_at" datetime, "last_error" text, "created_at" datetime, "updated_at" datetime);
