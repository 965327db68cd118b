-- The name a merchant's devices are certified with (protocol Certificate
-- field name): what payers are shown. Empty for people, whose devices are
-- shown by their account reference.
ALTER TABLE accounts ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
