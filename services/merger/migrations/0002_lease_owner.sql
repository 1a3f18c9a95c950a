-- Which merger process holds a request's lease, so a restarted process takes back its own leases at once
-- instead of waiting for them to lapse (as consumers take back their own pending entries).
ALTER TABLE merge_requests ADD COLUMN lease_owner text;
