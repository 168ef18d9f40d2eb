"""The embedded stack of `concord up`: Tansu broker, SMTP capture, local Slack Web API."""
