-- The operator queue (leads handed over or taken) is read every few
-- seconds while an operator has the Leads page open: only the few leads
-- with an operator are indexed, not every lead of the bot.
CREATE INDEX leads_with_operator ON leads(bot_id, operator_at) WHERE operator <> '';
