-- Which node runs an account's tracker (IDLE and polling) when several nodes share this
-- database: one lease per account, renewed by its holder, free for the taking once expired.
CREATE TABLE tracker_leases (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    node_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The folders devices sync or watch on any node, with the last time one did, so that the
-- tracker on the lease holder watches them all.
CREATE TABLE tracked_folders (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    folder_id TEXT NOT NULL,
    noted_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, folder_id)
);
