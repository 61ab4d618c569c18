-- Why a device has its access state: the default level, a device access rule, or a decision
-- for this device alone (an admin's, or a personal exemption), which rules never override.
ALTER TABLE devices ADD COLUMN access_reason TEXT NOT NULL DEFAULT 'default';
-- An admin's switch: log this device's requests and answers, decoded (`airgate devices trace`).
ALTER TABLE devices ADD COLUMN protocol_trace INTEGER NOT NULL DEFAULT 0;
