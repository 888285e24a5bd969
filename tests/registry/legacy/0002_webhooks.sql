-- Webhook deliveries: callbacks to the CMS that registered an article, kept until sent.
-- A restart loses none: queued rows are picked up again by the next sender.

CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- also sent as X-TTS-Delivery, for de-duplication
    owner TEXT NOT NULL,              -- name of the API key whose webhook_url is called
    event TEXT NOT NULL,              -- article.ready | article.failed
    body TEXT NOT NULL,               -- the JSON body, byte for byte what is signed and sent
    state TEXT NOT NULL,              -- queued | delivered | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,       -- backoff, or a sender's claim while it is sending
    last_status INTEGER,              -- the receiver's last HTTP status, NULL on network errors
    last_error TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    delivered REAL                    -- when a 2xx answer came
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt, id);
