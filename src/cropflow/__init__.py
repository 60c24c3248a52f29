"""cropflow turns crop-plan workbooks into batches dispatched to per-date queues."""

__version__ = "0.1.0"
