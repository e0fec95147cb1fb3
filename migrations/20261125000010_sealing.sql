-- Encryption at rest (core/src/seal.rs, core/src/store/sealing.rs).
--
-- Personal channel addresses (WhatsApp numbers, email addresses) are stored
-- sealed, so equality lookups go through a blind index: `chat_idx` is a
-- keyed HMAC of the normalized address for those channels and the address
-- itself for the others (Telegram chat ids, VK peer ids, web chat ids).
-- Existing rows start with their address; `comops rotate-key` seals them.
ALTER TABLE identity_links ADD COLUMN chat_idx TEXT NOT NULL DEFAULT '';
UPDATE identity_links SET chat_idx = chat_id;
CREATE INDEX identity_links_address_idx ON identity_links(bot_id, channel, chat_idx);
DROP INDEX identity_links_address;

-- The outbox keeps per-chat order on `chat_id`, which for personal
-- addresses now holds the same blind index; the address a message goes to
-- is `address`, sealed ('' when `chat_id` is the address itself).
ALTER TABLE outbox ADD COLUMN address TEXT NOT NULL DEFAULT '';
