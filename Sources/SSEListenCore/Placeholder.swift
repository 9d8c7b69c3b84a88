// Replaced by the sse-listen implementation.
