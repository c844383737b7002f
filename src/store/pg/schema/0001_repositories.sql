-- The repositories' tables. Values are the same versioned record bytes the sled store writes
-- (a version byte, then JSON or postcard), so the committed fixtures cover both; the columns
-- beside them are what queries select, order and lock by. Keys that sled orders as bytes are
-- kept as bytea, which PostgreSQL compares the same way.

CREATE TABLE counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);
-- Sequences a reader follows with "after N" are advanced inside the writing transaction, not
-- taken from a sequence: sequence numbers commit out of order, and a reader could skip one.
INSERT INTO counters (name, value) VALUES ('catalog', 0), ('audit', 0);

CREATE TABLE orgs      (id text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE members   (id text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE terminals (id text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE tokens (
    hash  bytea PRIMARY KEY,
    -- The principal's owner key (see repo::owner_key); null for admin and editor tokens.
    owner bytea,
    value bytea NOT NULL
);
CREATE INDEX tokens_by_owner ON tokens (owner) WHERE owner IS NOT NULL;
CREATE TABLE audit (seq bigint PRIMARY KEY, value bytea NOT NULL);

CREATE TABLE courses (id text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE course_versions (
    id      text NOT NULL,
    version integer NOT NULL,
    value   bytea NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TABLE lessons (id text PRIMARY KEY, course text NOT NULL);

CREATE TABLE probes    (sha256 bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE derived (
    source bytea NOT NULL,
    path   text NOT NULL,
    blob   bytea NOT NULL,
    PRIMARY KEY (source, path)
);
CREATE TABLE jobs (
    sha256 bytea PRIMARY KEY,
    status text NOT NULL,
    value  bytea NOT NULL
);
CREATE INDEX jobs_queued ON jobs (sha256) WHERE status = 'queued';
CREATE TABLE blob_meta (sha256 bytea PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE uploads   (id text PRIMARY KEY, value bytea NOT NULL);

CREATE TABLE ledger_entries (
    seq    bigserial PRIMARY KEY,
    member text NOT NULL,
    value  bytea NOT NULL
);
CREATE INDEX ledger_entries_by_member ON ledger_entries (member, seq);
CREATE TABLE seen_ids (
    kind  "char" NOT NULL,
    id    text NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE member_years (
    year   integer NOT NULL,
    member text NOT NULL,
    value  bytea NOT NULL,
    PRIMARY KEY (year, member)
);
CREATE TABLE group_sessions (id text PRIMARY KEY, value bytea NOT NULL);
-- Keyed as sled keys them (repo::DeliveredTo, then the source's first 8 bytes), so a play
-- session's deliveries sort by its issue time and are pruned from the front.
CREATE TABLE deliveries (key bytea PRIMARY KEY);
CREATE TABLE rejections (
    year   integer NOT NULL,
    member text NOT NULL,
    kind   smallint NOT NULL,
    count  bigint NOT NULL,
    PRIMARY KEY (year, member, kind)
);
CREATE TABLE secrets (name text PRIMARY KEY, value bytea NOT NULL);
