"""What an operator reads: health and Prometheus metrics on a local port, and logs."""
