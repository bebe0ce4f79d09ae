-- Where to tell a program that a job ended (a webhook given with the link, through the HTTP API).
ALTER TABLE jobs ADD COLUMN callback_url TEXT;
