-- Articles belong to the API key that registered them (see registry/access.py).
--
-- articles.owner used to be the key that last wrote an article; from now on it is set when
-- the article is first registered and never changed by later edits. Rows from before keep
-- the owner they have: the key that last wrote them, whose webhook already got their
-- callbacks, so a CMS keeps its own articles across the upgrade. Rows with no owner (the
-- command line's `pregenerate` registered them) belong to the site: admin keys only.
--
-- A job remembers whose article it read, so a job of a deleted article is never shown to
-- a key that later registers the same id. Jobs from before take their article's owner;
-- those of articles already deleted belong to the site.

ALTER TABLE jobs ADD COLUMN article_owner TEXT;  -- the owning API key's name; NULL = the site
UPDATE jobs SET article_owner = (SELECT owner FROM articles WHERE articles.id = jobs.article_id);
CREATE INDEX articles_owner ON articles (owner, status, id);
