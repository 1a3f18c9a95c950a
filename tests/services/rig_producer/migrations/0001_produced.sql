CREATE TABLE produced (event_id uuid PRIMARY KEY, subject text NOT NULL);
