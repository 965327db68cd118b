-- Certificate renewal at sync (ledger/README.md "Renewal"): cert_time is the
-- ledger time (unix seconds) the current certificate was issued by a
-- renewal, 0 for the enrolment certificate; max_per_payment and max_holding
-- are the highest limits of any certificate the device has held (0: none
-- above the current certificate's).
ALTER TABLE devices ADD COLUMN cert_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN max_per_payment BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN max_holding BIGINT NOT NULL DEFAULT 0;
