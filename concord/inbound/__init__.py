"""Mail in: the SMTP server that takes replies to task emails."""
