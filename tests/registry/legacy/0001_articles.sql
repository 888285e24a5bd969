-- The article registry: what the portal's CMS registered, and the jobs that read it.

CREATE TABLE articles (
    id TEXT PRIMARY KEY,              -- the portal's article id
    title TEXT,
    source_kind TEXT NOT NULL,        -- text | html | url
    source TEXT NOT NULL,             -- the text, the HTML, or the page's URL
    selector TEXT,                    -- CSS selector of the article in HTML / URL sources
    revision TEXT,                    -- the CMS's own revision label, if it sends one
    owner TEXT,                       -- name of the API key that last wrote it (its webhook)
    version INTEGER NOT NULL,         -- bumped on every content change
    text TEXT,                        -- the extracted article text that is normalised
    sentences TEXT,                   -- JSON: [[index, paragraph, written, spoken], ...]
    target_key TEXT,                  -- audio key the current content and lexicon need
    audio_key TEXT,                   -- audio key being served (the last one made)
    audio_version INTEGER,            -- the version that audio was made from
    chunk_keys TEXT,                  -- JSON list: the chunk keys of audio_key
    status TEXT NOT NULL,             -- queued | synthesising | ready | failed
    error TEXT,
    engine TEXT,
    duration_s REAL,
    chunks_total INTEGER,
    chunks_reused INTEGER,
    chunks_synthesised INTEGER,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    ready_at REAL
);
CREATE INDEX articles_status ON articles (status, id);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL,
    reason TEXT NOT NULL,             -- put | regenerate | lexicon | batch | upgrade
    priority INTEGER NOT NULL,        -- lower runs first
    state TEXT NOT NULL,              -- queued | running | done | failed | cancelled
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL,         -- backoff: not claimed before this time
    owner TEXT,                       -- host:pid:instance of the worker running it
    lease_until REAL,                 -- a running job whose lease ran out is resumed
    chunks_total INTEGER,
    chunks_reused INTEGER,
    chunks_synthesised INTEGER,
    error TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE INDEX jobs_queue ON jobs (state, priority, id);
CREATE INDEX jobs_article ON jobs (article_id, state);

-- The site lexicon once editors manage it through the API (seeded from TTS_SITE_LEXICON).
CREATE TABLE lexicon (
    written TEXT PRIMARY KEY,
    reading TEXT NOT NULL
);

CREATE TABLE state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
