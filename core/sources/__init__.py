"""Where a video comes from: which site a link belongs to and whether it may be fetched (platforms), where a job may
connect (addresses), fetching and preparing the media (media, audio) and the creator's captions (captions)."""
