-- How far a split message got: the parts an attempt delivered before the
-- messenger failed it, so its retry sends the rest only (SPEC §5: every
-- message delivered exactly once). Written only on that failure; read only
-- when a message is tried again.
CREATE TABLE outbox_parts (
    message_id TEXT PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
    parts_sent BIGINT NOT NULL
);
