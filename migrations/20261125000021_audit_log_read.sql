-- The audit log read by one subject (a user's, a token's entries, linked
-- from their rows), newest first, without reading the whole log.
CREATE INDEX audit_log_subject ON audit_log(subject, at);

-- A link deactivated in the studio was written with its address
-- (`lead channel:chat_id (n)`), which may be a phone or an email and is
-- kept sealed everywhere else; now it is written as lead and channel only.
-- The old entries keep who and when, not the address.
UPDATE audit_log SET detail = 'address removed' WHERE action = 'identity.deactivate' AND detail LIKE '%:%';
