"""Kaltura archiver: archive old, unplayed Kaltura videos to S3/Glacier and bring them back on demand."""

__version__ = "0.1.0"
