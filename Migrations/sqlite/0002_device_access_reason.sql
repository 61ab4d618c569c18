-- Why a device has its access state: the default level, a device access rule, or a decision
-- for this device alone (an admin's, or a personal exemption), which rules never override.
ALTER TABLE devices ADD COLUMN access_reason TEXT NOT NULL DEFAULT 'default';
