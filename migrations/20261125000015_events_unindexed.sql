-- Nothing reads events by status or by trace id (the timeline reads
-- trace_events; runs reach their event by its key), and every accepted
-- call paid for both indexes: their entries are written in the accept's
-- transaction, before the 200.
DROP INDEX events_status;
DROP INDEX events_trace;
