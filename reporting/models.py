"""Report records arrive with the reporting issue."""
