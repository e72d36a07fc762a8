-- One worker at a time sends for a number: the one that reserved its latest send slots, until a
-- little after the last of them. Workers in two processes each keeping an even pace can still
-- crowd one second past the cap, where the late sends of one meet the first sends of the other;
-- one worker's own limiter cannot, however late it runs. A worker gives its numbers back
-- when it stops or idles; those of a worker that died lapse on their own.
ALTER TABLE phone_numbers
    ADD COLUMN sending_worker text,
    ADD COLUMN sending_until timestamptz;
