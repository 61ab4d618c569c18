-- Airgate sync state, SQLite. Statements end with ";" at the end of a line.
-- Times are milliseconds since 1970; booleans are 0/1; JSON is stored as TEXT.

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    next_folder_id INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    device_type TEXT NOT NULL,
    user_agent TEXT,
    information TEXT NOT NULL DEFAULT '{}',
    protocol_version TEXT,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    policy_key TEXT,
    policy_state TEXT NOT NULL DEFAULT 'none',
    wipe_state TEXT NOT NULL DEFAULT 'none',
    wipe_account_only INTEGER NOT NULL DEFAULT 0,
    access_state TEXT NOT NULL DEFAULT 'allowed',
    ping_heartbeat INTEGER,
    ping_folders TEXT NOT NULL DEFAULT '[]',
    hierarchy_counter INTEGER NOT NULL DEFAULT 0,
    hierarchy_key TEXT,
    UNIQUE (account_id, device_id)
);

CREATE TABLE folders (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    folder_id TEXT NOT NULL,
    mailbox_name TEXT NOT NULL,
    uid_validity INTEGER NOT NULL,
    folder_type INTEGER NOT NULL,
    parent_id TEXT,
    watermark_uid_validity INTEGER,
    watermark_modseq INTEGER,
    watermark_uid_next INTEGER,
    log_head INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, folder_id),
    UNIQUE (account_id, mailbox_name)
);

CREATE TABLE change_log (
    account_id INTEGER NOT NULL,
    folder_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    uid INTEGER NOT NULL,
    modseq INTEGER NOT NULL,
    flags TEXT NOT NULL,
    PRIMARY KEY (account_id, folder_id, seq),
    FOREIGN KEY (account_id, folder_id) REFERENCES folders (account_id, folder_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE hierarchy_generations (
    device_pk INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    sync_key TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    PRIMARY KEY (device_pk, number)
);

CREATE TABLE collections (
    device_pk INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    folder_id TEXT NOT NULL,
    counter INTEGER NOT NULL DEFAULT 0,
    current_key TEXT,
    last_presented_key TEXT,
    presented_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_pk, folder_id),
    FOREIGN KEY (account_id, folder_id) REFERENCES folders (account_id, folder_id) ON DELETE CASCADE
);

CREATE INDEX collections_by_folder ON collections (account_id, folder_id);

CREATE TABLE collection_generations (
    device_pk INTEGER NOT NULL,
    folder_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    sync_key TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    initial_position TEXT,
    filter_type INTEGER,
    options TEXT,
    PRIMARY KEY (device_pk, folder_id, number),
    FOREIGN KEY (device_pk, folder_id) REFERENCES collections (device_pk, folder_id) ON DELETE CASCADE
);

-- What the device holds. A row added by generation N has added_in = N; a row taken by
-- generation N keeps removed_in = N until N can no longer be undone. Held = removed_in IS NULL.
CREATE TABLE held_messages (
    device_pk INTEGER NOT NULL,
    folder_id TEXT NOT NULL,
    uid INTEGER NOT NULL,
    added_in INTEGER NOT NULL,
    removed_in INTEGER,
    PRIMARY KEY (device_pk, folder_id, uid),
    FOREIGN KEY (device_pk, folder_id) REFERENCES collections (device_pk, folder_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE client_ids (
    device_pk INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    client_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    PRIMARY KEY (device_pk, scope, client_id)
);
