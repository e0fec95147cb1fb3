-- An endpoint may ask to hear when a person it messages has blocked the
-- bot (SPEC §5: "reported back to the business system if the endpoint
-- asks"): `on_blocked` names the scenario started for that lead, whose
-- `http` step tells the business system. Empty: nobody is told.
ALTER TABLE endpoints ADD COLUMN on_blocked TEXT NOT NULL DEFAULT '';
