"""Questions asked of many replays: comparing estates, what moves a metric, what to fix first."""
