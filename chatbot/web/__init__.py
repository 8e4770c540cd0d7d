"""HTTP: the chat API, the widget, error shapes, rate limits, security headers, request validation."""
