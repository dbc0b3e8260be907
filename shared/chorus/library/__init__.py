"""The content library: templates with variables and per-platform variants, hashtag groups, and the media
library (every upload of ``POST /media`` with its thumbnail, tags, usage and platform fitness)."""
